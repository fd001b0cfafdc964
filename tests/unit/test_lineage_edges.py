"""link_lineage's evidence rules on hand-made posts and post_sounds in a real DuckDB file."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta

import pytest

from pipelines import warehouse
from pipelines.lineage import build_scope
from pipelines.lineage.edges import link_edges

DAY = date(2024, 3, 1)
T0 = datetime(2024, 3, 1, 6)


class World:
    def __init__(self, con):
        self.con = con
        self.minute = 0

    def post(self, post_id, author, music=None, caption=None, duet_from=None, sounds=(), at=None, original=True,
             title=None):
        """sounds: (sound_id, role, post_start_s, sound_start_s) per heard sound."""
        self.minute += 1
        created = T0 + timedelta(minutes=self.minute if at is None else at)
        self.con.execute(
            "INSERT INTO validated_posts (post_id, author, created_at, created_day, caption, platform_music_id,"
            " music_title,"
            " music_original, duet_from_post_id, source_format, source_file, source_record, ingest_day)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'tiktok_web', 'x.jsonl', 0, ?)",
            [post_id, author, created, created.date(), caption, music, title or f"original sound - {author}",
             original, duet_from, DAY],
        )
        for sound_id, role, post_start, sound_start in sounds:
            self.con.execute(
                "INSERT INTO post_sounds VALUES (?, ?, ?, ?, ?, ?, ?, 1.0, 0.9, 'chromaprint', ?, ?, 0.0, 'as_posted')",
                [post_id, sound_id, role, post_start, post_start + 10, sound_start, sound_start + 10, sound_id, DAY],
            )


@pytest.fixture
def con(tmp_path):
    c = warehouse.connect(tmp_path / "wh.duckdb")
    yield c
    c.close()


def edges(con) -> dict[str, tuple]:
    rows = con.execute(
        "SELECT child_post_id, parent_post_id, relation, confidence, evidence FROM lineage_edges"
    ).fetchall()
    return {c: (p, r, conf, json.loads(e)) for c, p, r, conf, e in rows}


def rejections(con) -> set[tuple]:
    return set(
        con.execute("SELECT child_post_id, claimed_parent_post_id, claim, reason FROM lineage_rejections").fetchall()
    )


@pytest.fixture
def world(con):
    w = World(con)
    a = "snd_a"
    w.post("O", "orig", music="m1", sounds=[(a, "primary", 0, 0)])
    w.post("R1", "fan1", music="m1", sounds=[(a, "primary", 0, 12)])
    w.post("R1b", "fan1", music="m1", sounds=[(a, "primary", 0, 40)])
    w.post("D1", "duo", music="m1", duet_from="R1", caption="#duet with @fan1 round two",
           sounds=[(a, "primary", 0, 12)])
    w.post("X", "duo", music="m9", sounds=[("snd_b", "primary", 0, 0)])
    w.post("D2", "trio", music="m1", caption="#duet with @duo wait for it", sounds=[(a, "primary", 0, 12.4)])
    w.post("ST", "talker", music="m_st", caption="#stitch with @fan1 so true",
           sounds=[(a, "contained", 0, 40.2), ("snd_t", "primary", 3, 0)])
    w.post("STST", "talker2", music="m_stst", caption="#stitch with @talker",
           sounds=[(a, "contained", 0, 40.1), ("snd_u", "primary", 2.5, 0)])
    w.post("RU", "thief", music="m_ru", sounds=[(a, "primary", 0, 5)])
    w.post("RU2", "fan2", music="m_ru", sounds=[(a, "primary", 0, 9)])
    w.post("NOMUSIC", "csvuser", music=None, sounds=[(a, "primary", 0, 30)])
    w.post("NEW", "creator", music="m_new", sounds=[("snd_new", "primary", 0, 0)])
    # claims that must be rejected
    w.post("C1", "cy1", music="m1", duet_from="C2", sounds=[(a, "primary", 0, 0)])
    w.post("C2", "cy2", music="m1", duet_from="C1", sounds=[(a, "primary", 0, 0)])
    w.post("FUT", "early", music="m1", duet_from="LATER", sounds=[(a, "primary", 0, 0)])
    w.post("SELF", "narcissus", music="m1", duet_from="SELF")
    w.post("NOBS", "ghostfan", music="m1", duet_from="999", caption="#duet with @ghost hi")
    w.post("LONELY", "stitcher", music="m_lonely", caption="#stitch with @nobody hm",
           sounds=[("snd_l", "primary", 0, 0)])
    # explicit id contradicted by the audio
    w.post("K", "liar", music="m1", duet_from="R1", sounds=[("snd_b", "primary", 0, 0)])
    w.post("LATER", "late", music="m1", sounds=[(a, "primary", 0, 0)])
    # captions the audio contradicts: duo has two earlier posts, neither heard in it; thief has exactly one
    w.post("UNMATCHED", "zed", music="m1", caption="#duet with @duo", sounds=[("snd_c", "primary", 0, 0)])
    w.post("ONLYONE", "yan", music="m_y", caption="#stitch with @thief", sounds=[("snd_d", "primary", 0, 0)])
    build_scope(con, DAY)
    link_edges(con, DAY, DAY)
    return edges(con)


def test_explicit_duet_id_with_agreeing_audio(world):
    parent, rel, conf, ev = world["D1"]
    assert (parent, rel, conf) == ("R1", "duet", 0.99)
    assert ev["rule"] == "duet_from_id" and "caption_names_parent_author" in ev["signals"] and ev["conflicts"] == []


def test_duet_of_a_duet_from_the_caption_picks_the_aligned_post(world):
    parent, rel, conf, ev = world["D2"]
    assert (parent, rel) == ("D1", "duet")  # not duo's other post X (other sound)
    assert "audio_aligned" in ev["signals"] and conf >= 0.95


def test_stitch_of_a_reuse_and_stitch_of_a_stitch(world):
    assert world["ST"][:2] == ("R1b", "stitch")  # fan1's post whose opening (sound 40 s) the stitch holds
    assert world["STST"][:2] == ("ST", "stitch")


def test_music_id_reuse_reupload_and_canonical_sound(world):
    assert world["R1"][:3] == ("O", "sound_reuse", 0.98)
    parent, rel, _, ev = world["RU"]
    assert (parent, rel, ev["rule"]) == ("O", "reupload", "canonical_sound")
    assert world["RU2"][:2] == ("RU", "sound_reuse")  # reuses follow the platform sound they used
    assert world["NOMUSIC"][:2] == ("O", "sound_reuse")
    assert "NEW" not in world and "O" not in world and "LONELY" not in world  # origins


def test_rejected_claims_are_recorded_and_not_followed(world, con):
    got = rejections(con)
    assert ("C1", "C2", "duet_from_id", "cycle") in got and ("C2", "C1", "duet_from_id", "cycle") in got
    assert ("FUT", "LATER", "duet_from_id", "future") in got
    assert ("SELF", "SELF", "duet_from_id", "self") in got
    assert ("NOBS", "999", "duet_from_id", "not_observed") in got
    assert ("LONELY", None, "caption_stitch", "no_earlier_post") in got
    # they fall back to weaker evidence, with the rejected claim listed as a conflict
    parent, rel, _, ev = world["C2"]
    assert (parent, rel) == ("O", "sound_reuse") and "duet_from_id_rejected" in ev["conflicts"]
    assert world["FUT"][:2] == ("O", "sound_reuse")
    # every edge points to an older post
    assert con.execute(
        """SELECT count(*) FROM lineage_edges e JOIN posts c ON c.post_id = e.child_post_id
                          JOIN posts p ON p.post_id = e.parent_post_id WHERE p.created_at >= c.created_at"""
    ).fetchall() == [(0,)]


def test_conflicting_audio_keeps_the_explicit_id_and_says_so(world):
    parent, rel, conf, ev = world["K"]
    assert (parent, rel) == ("R1", "duet") and conf == 0.8
    assert ev["conflicts"] == ["audio_no_shared_sound"]


def test_rerun_replaces_the_window(world, con):
    before = edges(con)
    build_scope(con, DAY)
    link_edges(con, DAY, DAY)
    assert edges(con) == before
    assert con.execute("SELECT count(*) FROM lineage_edges").fetchall()[0][0] == len(before)


def test_caption_the_audio_contradicts(world, con):
    # several earlier posts of the named user and none heard in the child: which one is unknowable → rejected,
    # and the post falls back to its music id (with the audio conflict recorded there too)
    assert ("UNMATCHED", None, "caption_duet", "no_audio_match") in rejections(con)
    parent, rel, conf, ev = world["UNMATCHED"]
    assert (parent, rel, conf, ev["rule"]) == ("O", "sound_reuse", 0.7, "music_id")
    # the named user's only earlier post is *the* claimed parent: the caption (stronger) wins, conflict recorded
    parent, rel, conf, ev = world["ONLYONE"]
    assert (parent, rel, conf) == ("RU", "stitch", 0.5) and ev["conflicts"] == ["audio_no_shared_sound"]
