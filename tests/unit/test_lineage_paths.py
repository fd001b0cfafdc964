"""lineage_paths and cascades on hand-made trees in a real DuckDB file, incremental runs included."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from pipelines import warehouse
from pipelines.lineage import build_scope, drop_scope
from pipelines.lineage.cascades import refresh_cascades
from pipelines.lineage.paths import refresh_paths

D1 = date(2024, 3, 1)
T0 = datetime(2024, 3, 1, 8)


def add_post(con, post_id, author, minutes, day=D1, caption=None, music=None, music_title=None, original=None,
             duet_from=None):
    created = T0 + timedelta(minutes=minutes)
    con.execute(
        "INSERT INTO validated_posts (post_id, author, created_at, created_day, caption, platform_music_id,"
        " music_title,"
        " music_original, duet_from_post_id, source_format, source_file, source_record, ingest_day)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'tiktok_web', 'x.jsonl', 0, ?)",
        [post_id, author, created, created.date(), caption, music, music_title, original, duet_from, day],
    )


def add_edge(con, child, parent, relation, day=D1):
    con.execute("INSERT INTO lineage_edges VALUES (?, ?, ?, 0.99, '{}', ?)", [child, parent, relation, day])


def add_sound(con, post_id, sound_id, role="primary"):
    con.execute(
        "INSERT INTO post_sounds (post_id, sound_id, role, post_start_s, post_end_s, sound_start_s, sound_end_s, speed,"
        " score, method, matched_sound_id, ingest_day) VALUES (?, ?, ?, 0, 10, 0, 10, 1.0, 1.0, 'origin', ?, ?)",
        [post_id, sound_id, role, sound_id, D1])


@pytest.fixture
def con(tmp_path):
    c = warehouse.connect(tmp_path / "wh.duckdb")
    yield c
    c.close()


def build(con, first=D1, day=D1):
    build_scope(con, day, first)
    refresh_paths(con)
    refresh_cascades(con)
    drop_scope(con)


def cascade(con, root):
    cols = [d[0] for d in con.execute("SELECT * FROM cascades LIMIT 0").description]
    row = con.execute("SELECT * FROM cascades WHERE root_post_id = ?", [root]).fetchone()
    return dict(zip(cols, row, strict=False)) if row else None


def test_star_chain_and_lone_post(con):
    add_post(con, "s0", "hub", 0, music_title="original sound - hub", original=True)
    add_sound(con, "s0", "snd_star")
    for i in range(1, 6):
        add_post(con, f"s{i}", f"fan{i}", i)
        add_edge(con, f"s{i}", "s0", "sound_reuse")
    add_post(con, "c0", "a0", 0)
    for i in range(1, 5):
        add_post(con, f"c{i}", f"a{i}", 10 + i)
        add_edge(con, f"c{i}", f"c{i - 1}", "duet")
    add_post(con, "lone", "me", 3)
    build(con)

    star = cascade(con, "s0")
    assert (star["size"], star["creators"], star["depth"], star["max_breadth"]) == (6, 6, 1, 5)
    assert star["structural_virality"] == pytest.approx(2 * 5 / 6)
    assert (star["n_reuses"], star["n_duets"], star["sound_id"], star["root_observed"]) == (5, 0, "snd_star", True)
    chain = cascade(con, "c0")
    assert (chain["size"], chain["depth"], chain["max_breadth"], chain["n_duets"]) == (5, 4, 1, 4)
    assert chain["structural_virality"] == pytest.approx(6 / 3)
    lone = cascade(con, "lone")
    assert lone["size"] == 1 and lone["structural_virality"] is None and lone["sound_id"] is None
    assert con.execute("SELECT path, depth, root_post_id FROM lineage_paths WHERE post_id = 'c4'").fetchone() == (
        ["c0", "c1", "c2", "c3", "c4"], 4, "c0")
    assert con.execute("SELECT count(*) FROM cascades").fetchone()[0] == 3


def test_duet_of_a_duet_and_stitch_of_a_reuse(con):
    add_post(con, "o", "origin", 0)
    add_sound(con, "o", "snd_o")
    add_post(con, "r", "reuser", 5)
    add_edge(con, "r", "o", "sound_reuse")
    add_post(con, "st", "stitcher", 9, caption="#stitch with @reuser so true")
    add_edge(con, "st", "r", "stitch")
    add_post(con, "d1", "duo1", 6)
    add_edge(con, "d1", "o", "duet")
    add_post(con, "d2", "duo2", 7)
    add_edge(con, "d2", "d1", "duet")
    build(con)
    row = cascade(con, "o")
    assert (row["size"], row["depth"], row["max_breadth"]) == (5, 2, 2)
    assert (row["n_duets"], row["n_stitches"], row["n_reuses"], row["n_reuploads"]) == (2, 1, 1, 0)
    # distances: o-r 1, o-st 2, o-d1 1, o-d2 2, r-st 1, r-d1 2, r-d2 3, st-d1 3, st-d2 4, d1-d2 1 → 20/10
    assert row["structural_virality"] == pytest.approx(2.0)
    paths = dict(con.execute("SELECT post_id, path FROM lineage_paths").fetchall())
    assert paths["st"] == ["o", "r", "st"] and paths["d2"] == ["o", "d1", "d2"]
    sounds = set(con.execute("SELECT DISTINCT sound_id FROM lineage_paths").fetchall())
    assert sounds == {("snd_o",)}  # every post counts for its cascade's sound


def test_unobserved_root_is_flagged(con):
    # the true origin never reached the sample: the first observed reuse is the root
    add_post(con, "first_seen", "late_fan", 0, music_title="original sound - someone.else", original=True)
    add_post(con, "next", "other", 4, music_title="original sound - someone.else", original=True)
    add_edge(con, "next", "first_seen", "sound_reuse")
    # a duet whose parent was never observed
    add_post(con, "orphan", "duetter", 1, caption="#duet with @ghost lol", duet_from="999")
    build(con)
    assert cascade(con, "first_seen")["root_observed"] is False
    assert cascade(con, "orphan")["root_observed"] is False


def test_incremental_day_matches_a_full_rebuild(con, tmp_path):
    d2 = D1 + timedelta(days=1)
    add_post(con, "a", "u1", 0)
    add_post(con, "b", "u2", 10)
    add_edge(con, "b", "a", "sound_reuse")
    build(con)
    # day 2 brings a child of b, a grandchild, and a late post (created day 1) that adopts a
    add_post(con, "c", "u3", 60 * 24 + 5, day=d2)
    add_edge(con, "c", "b", "duet", day=d2)
    add_post(con, "e", "u4", 60 * 24 + 9, day=d2)
    add_edge(con, "e", "c", "stitch", day=d2)
    add_post(con, "late", "u5", 30, day=d2)
    add_edge(con, "late", "a", "sound_reuse", day=d2)
    build(con, d2, d2)
    incremental = con.execute("SELECT * FROM cascades ORDER BY ALL").fetchall()
    inc_paths = con.execute("SELECT * FROM lineage_paths ORDER BY ALL").fetchall()
    con.execute("DELETE FROM cascades; DELETE FROM lineage_paths")
    build(con, D1, d2)
    assert con.execute("SELECT * FROM cascades ORDER BY ALL").fetchall() == incremental
    assert con.execute("SELECT * FROM lineage_paths ORDER BY ALL").fetchall() == inc_paths
    row = cascade(con, "a")
    assert (row["size"], row["depth"], row["max_breadth"]) == (5, 3, 2)


def test_relinked_post_moves_between_trees(con):
    d2 = D1 + timedelta(days=1)
    add_post(con, "x", "u1", 0)
    add_post(con, "y", "u2", 5)
    add_post(con, "kid", "u3", 9, day=d2)
    add_edge(con, "kid", "x", "sound_reuse", day=d2)
    build(con, D1, d2)
    assert cascade(con, "x")["size"] == 2
    # a rerun of day 2 links kid to y instead: x shrinks, y grows
    con.execute("DELETE FROM lineage_edges")
    add_edge(con, "kid", "y", "sound_reuse", day=d2)
    build(con, d2, d2)
    assert cascade(con, "x")["size"] == 1 and cascade(con, "y")["size"] == 2


def test_music_original_is_a_property_of_the_sound_not_of_the_origin(con):
    """Reuses of someone's original sound carry music_original TRUE too: the flag never makes a post an origin.
    Whether a root is the true origin comes from whose name the sound's title carries."""
    from pipelines.lineage.edges import link_edges

    add_post(con, "made", "maker", 0, music="m9", music_title="original sound - maker", original=True)
    add_post(con, "reuse", "fan", 5, music="m9", music_title="original sound - maker", original=True)
    # a reuse whose origin was never observed, from an export without the flag (Research API, CSV: NULL)
    add_post(con, "lonely", "viewer", 9, music="m8", music_title="original sound - someone.else", original=None)
    build_scope(con, D1)
    link_edges(con, D1, D1)
    refresh_paths(con)
    refresh_cascades(con)
    drop_scope(con)
    edges = con.execute("SELECT child_post_id, parent_post_id, relation FROM lineage_edges").fetchall()
    assert edges == [("reuse", "made", "sound_reuse")]
    assert cascade(con, "made")["root_observed"] is True and cascade(con, "made")["size"] == 2
    assert cascade(con, "reuse") is None
    assert cascade(con, "lonely")["root_observed"] is False
