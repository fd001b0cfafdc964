"""link_lineage → build_cascades → adoption as stages on a real warehouse file: late arrivals relink,
reruns replace, every run is logged."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import duckdb
import pytest

from pipelines import warehouse
from pipelines.stages import adoption, build_cascades, link_lineage

D1 = date(2024, 3, 1)
STAGES = (link_lineage, build_cascades, adoption)


def add_post(con, post_id, author, created, ingest_day, music, sound, sound_start=0.0, caption=None):
    con.execute(
        "INSERT INTO validated_posts (post_id, author, created_at, created_day, caption, platform_music_id,"
        " music_title,"
        " music_original, source_format, source_file, source_record, ingest_day)"
        " VALUES (?, ?, ?, ?, ?, ?, 'original sound - ' || ?, TRUE, 'csv_export', 'x.csv', 0, ?)",
        [post_id, author, created, created.date(), caption, music, author, ingest_day],
    )
    con.execute("INSERT INTO post_sounds VALUES (?, ?, 'primary', 0, 10, ?, ?, 1.0, 0.9, 'chromaprint', ?, ?, 0.0, "
                "'as_posted')",
                [post_id, sound, sound_start, sound_start + 10, sound, ingest_day])


def at(day_offset: int, hour: int) -> datetime:
    return datetime.combine(D1 + timedelta(days=day_offset), datetime.min.time()) + timedelta(hours=hour)


def run_day(day):
    return [stage.run(day, f"test-{day}") for stage in STAGES]


def snapshot(path):
    con = duckdb.connect(str(path), read_only=True)
    try:
        return {t: con.execute(f"SELECT * EXCLUDE ({ex}) FROM {t} ORDER BY ALL").fetchall() if ex else
                con.execute(f"SELECT * FROM {t} ORDER BY ALL").fetchall()
                for t, ex in (("lineage_edges", "evidence"), ("lineage_paths", ""), ("cascades", ""),
                              ("sound_daily", ""), ("sound_stage_changes", ""))}
    finally:
        con.close()


@pytest.fixture
def wh(pipeline_env):
    _, path = pipeline_env
    con = warehouse.connect(path)
    # day 1: a sound and two reuses; day 2: a reuse of a music whose first post has not arrived yet
    add_post(con, "o1", "alice", at(0, 8), D1, "m1", "snd_1")
    add_post(con, "r1", "bob", at(0, 10), D1, "m1", "snd_1", 20)
    add_post(con, "d1", "carol", at(0, 12), D1, "m1", "snd_1", 20, caption="#duet with @bob yes")
    add_post(con, "c2", "dave", at(1, 9), D1 + timedelta(days=1), "m2", "snd_2", 3)
    add_post(con, "c3", "erin", at(1, 11), D1 + timedelta(days=1), "m2", "snd_2", 7)
    # day 3 brings, late, the post that created m2 (made on day 1), and someone who stitches it
    add_post(con, "o2", "frank", at(0, 20), D1 + timedelta(days=2), "m2", "snd_2")
    con.close()
    return path


def test_three_days_with_a_late_origin(wh):
    for k in range(3):
        results = run_day(D1 + timedelta(days=k))
        assert [r.status for r in results] == ["success"] * 3, [r.message for r in results]
    snap = snapshot(wh)
    edges = {c: (p, r) for c, p, r, *_ in snap["lineage_edges"]}
    assert edges == {"r1": ("o1", "sound_reuse"), "d1": ("r1", "duet"),
                     "c2": ("o2", "sound_reuse"), "c3": ("o2", "sound_reuse")}  # c2 was a root until o2 arrived
    con = duckdb.connect(str(wh), read_only=True)
    cascades = {r[0]: r[1:] for r in con.execute("SELECT root_post_id, size, depth, sound_id FROM cascades").fetchall()}
    assert cascades == {"o1": (3, 2, "snd_1"), "o2": (3, 1, "snd_2")}  # c2's one-day tree is gone
    daily = con.execute(
        "SELECT day, new_posts, cum_creators, stage FROM sound_daily WHERE sound_id = 'snd_2' ORDER BY day"
    ).fetchall()
    assert daily == [
        (D1, 1, 1, "moment"), (D1 + timedelta(days=1), 2, 3, "spark"), (D1 + timedelta(days=2), 0, 3, "spark")
    ]
    runs = con.execute(
        "SELECT task, count(*) FROM pipeline_runs WHERE status = 'success' GROUP BY ALL ORDER BY ALL"
    ).fetchall()
    con.close()
    assert runs == [("adoption", 3), ("build_cascades", 3), ("link_lineage", 3)]


def test_rerun_is_idempotent(wh):
    for k in range(3):
        run_day(D1 + timedelta(days=k))
    first = snapshot(wh)
    run_day(D1 + timedelta(days=2))
    run_day(D1 + timedelta(days=1))
    run_day(D1 + timedelta(days=2))
    assert snapshot(wh) == first


def test_a_day_without_posts_is_no_data(pipeline_env):
    results = run_day(D1)
    assert [r.status for r in results] == ["no_data"] * 3
