"""Duets and stitches found from the audio alone (audio_stitch, audio_duet; on with TRENDTRACE_LINEAGE_AUDIO_ONLY=1,
off by default) and captions graded by the audio, on real encoded media and a real
DuckDB file: ingest → validate → fingerprint → match_sounds → link_lineage, one partition.

The world, decided here when the media is made:
  a0  song A, 20 s (the sound's first post)           a1  A's first 15 s + bob's voice (his own material)
  a2  A's first 15 s, plain (same sound, same span)    d1  a1 + dave's voice, no caption: a duet of a1
  r1  A's first 11 s + erin's voice-over: a reuse      b0  song B, 18 s
  s1  B's first 4 s, then gina's reply, no caption: a stitch of b0
  s2  a1's first 4 s, then hank's reply, caption "#stitch with @bob": caption and audio agree
  d2  b0 + ivy's voice, caption "#duet with @carol": the caption names carol, the audio says b0 (conflict)
  s3  A's first 3 s, then jo's reply, no caption: a0 and a2 open exactly alike (the audio cannot tell them apart)
  u0  A's first 15 s + kim's voice, posted as kim's own music m_u (its first post)
  u1  u0's audio + lee's voice, music m_u: a reuse of kim's music, which carries kim's voice by itself
"""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from pathlib import Path

import duckdb
import pytest
from rich.console import Console

from pipelines import explore
from pipelines.lineage import build_scope, drop_scope
from pipelines.lineage.edges import audio_fits
from pipelines.stages import fingerprint, ingest, link_lineage, match_sounds, validate
from tests.support import media

DAY = date(2024, 5, 1)
T0 = datetime(2024, 5, 1, 8)


@pytest.fixture(scope="module")
def landing(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("lineage_audio")
    landing, work = root / "landing", root / "work"
    work.mkdir()
    folder = landing / f"dt={DAY}" / "media"
    folder.mkdir(parents=True)
    song_a = media.tone_music(work / "a.wav", 20.0, seed=21)
    song_b = media.tone_music(work / "b.wav", 18.0, seed=22)

    def say(name: str, text: str, voice: str = "en") -> Path:
        return media.speech(work / f"{name}.wav", text, voice=voice)

    bob = say("bob", "this part always gets me, listen to the way it builds up right here, so good", "en-us")
    dave = say("dave", "okay I am joining in on this one, let us see if I can keep up with him, here we go")
    erin = say("erin", "my morning routine but make it dramatic, coffee first, then everything else", "en-gb")
    gina = say("gina", "wait, stop, did nobody notice what happened in the background of this video", "en-us")
    hank = say("hank", "this is exactly what happened to me last summer at the beach, every single time")
    ivy = say("ivy", "singing along because I cannot help it, this melody has been stuck in my head all week",
              "en-gb")
    a15 = media.trim(song_a, work / "a15.wav", 0.0, 15.0)
    rows: list[tuple[str, str, str, str, str]] = []  # post_id, author, caption, music id, media file

    def post(pid: str, author: str, make, caption: str = "a caption", music: str | None = None,
             ext: str = "m4a") -> None:
        make(folder / f"{pid}.{ext}")
        rows.append((pid, author, caption, music or f"m_{pid}", f"{pid}.{ext}"))

    post("a0", "alice", lambda d: media.encode(song_a, d), music="m_a")
    post("a1", "bob", lambda d: media.mix(a15, bob, d, b_gain_db=-3.0), music="m_a")
    post("a2", "carol", lambda d: media.encode(a15, d), music="m_a", ext="mp3")
    post("d1", "dave", lambda d: media.mix(folder / "a1.m4a", dave, d, b_gain_db=0.0), music="m_a")
    post("r1", "erin", lambda d: media.mix(media.trim(song_a, work / "a11.wav", 0.0, 11.0), erin, d), music="m_a")
    post("b0", "frank", lambda d: media.encode(song_b, d), music="m_b")
    post("s1", "gina", lambda d: media.concat([media.trim(song_b, work / "b4.wav", 0.0, 4.0), gina], d))
    post("s2", "hank", lambda d: media.concat([media.trim(folder / "a1.m4a", work / "a1_4.wav", 0.0, 4.0), hank], d),
         caption="#stitch with @bob so true")
    post("d2", "ivy", lambda d: media.mix(folder / "b0.m4a", ivy, d, b_gain_db=-2.0), caption="#duet with @carol",
         music="m_b")
    jo = say("jo", "no because why does this remind me of my first job, the manager used to play it daily")
    kim = say("kim", "a little story time over my favourite song, so this happened on the train today", "en-us")
    lee = say("lee", "replying with my own take on it, honestly I would have done exactly the same thing", "en-gb")
    post("s3", "jo", lambda d: media.concat([media.trim(song_a, work / "a3.wav", 0.0, 3.0), jo], d))
    post("u0", "kim", lambda d: media.mix(a15, kim, d, b_gain_db=-3.0), music="m_u")
    post("u1", "lee", lambda d: media.mix(folder / "u0.m4a", lee, d, b_gain_db=0.0), music="m_u")
    lines = ["post_id,created_at,author,caption,music_id,music_title,media_path"]
    for k, (pid, author, caption, music, file) in enumerate(rows):
        at = (T0 + timedelta(hours=k)).isoformat()
        lines.append(f"{pid},{at}Z,{author},{caption},{music},original sound - {author},media/{file}")
    (landing / f"dt={DAY}" / "export.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return landing


@pytest.fixture(scope="module")
def warehouse_file(landing, tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("wh") / "wh.duckdb"
    mp = pytest.MonkeyPatch()
    mp.setenv("TRENDTRACE_LANDING", str(landing))
    mp.setenv("TRENDTRACE_WAREHOUSE", str(path))
    for stage in (ingest, validate, fingerprint, match_sounds):
        assert stage.run(DAY, "t").status == "success"
    yield path, mp
    mp.undo()


def edges(path: Path) -> dict[str, tuple]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return {c: (p, r, conf, json.loads(ev)) for c, p, r, conf, ev in con.execute(
            "SELECT child_post_id, parent_post_id, relation, confidence, evidence FROM lineage_edges").fetchall()}
    finally:
        con.close()


@pytest.fixture(scope="module")
def runs(warehouse_file) -> dict[str, dict[str, tuple]]:
    """The edges of three runs over the same warehouse: no audio at all, the default settings (the audio
    grades ids and captions only), and audio-only claims switched on."""
    path, mp = warehouse_file
    out = {}
    for name, audio, audio_only in (("without", "0", None), ("default", None, None), ("audio_only", "1", "1")):
        for env, value in (("TRENDTRACE_LINEAGE_AUDIO", audio), ("TRENDTRACE_LINEAGE_AUDIO_ONLY", audio_only)):
            if value is None:
                mp.delenv(env, raising=False)
            else:
                mp.setenv(env, value)
        result = link_lineage.run(DAY, name)
        assert result.status == "success", result.message
        out[name] = edges(path)
    mp.delenv("TRENDTRACE_LINEAGE_AUDIO", raising=False)
    mp.delenv("TRENDTRACE_LINEAGE_AUDIO_ONLY", raising=False)
    return out


@pytest.fixture(scope="module")
def linked(runs):
    """(edges with audio-only claims on, edges without any audio evidence)."""
    return runs["audio_only"], runs["without"]


def test_audio_only_stitch_links_its_parent_post(linked):
    ours, without = linked
    parent, relation, confidence, evidence = ours["s1"]
    assert (parent, relation, evidence["rule"]) == ("b0", "stitch", "audio_stitch")
    assert evidence["audio"]["stitch"] and evidence["audio"]["head_s"] >= 3.0
    assert 0.8 <= confidence < 0.97
    assert without.get("s1", (None, None))[:2] != ("b0", "stitch")  # nothing but the audio says so


def test_audio_only_duet_is_told_apart_from_a_plain_reuse(linked):
    ours, without = linked
    assert ours["d1"][:2] == ("a1", "duet") and ours["d1"][3]["rule"] == "audio_duet"
    assert without["d1"][:2] == ("a0", "sound_reuse")  # the music id alone calls it a reuse
    # erin plays the same sound from its start under her own voice, but not a1's or a2's whole audio
    assert ours["r1"][:2] == ("a0", "sound_reuse")
    assert ours["a1"][:2] == ("a0", "sound_reuse") and ours["a2"][:2] == ("a0", "sound_reuse")


@pytest.fixture(scope="module")
def fits(linked, warehouse_file) -> dict[tuple[str, str], dict]:
    """What the audio says about every candidate pair of the day, by (child, parent)."""
    path, _ = warehouse_file
    con = duckdb.connect(str(path))
    try:
        build_scope(con, DAY)
        out = {(r["child"], r["parent"]): r for r in audio_fits(con).iter_rows(named=True)}
        drop_scope(con)
    finally:
        con.close()
    return out


def test_several_candidates_chosen_by_the_parents_own_material(linked, fits):
    ours, _ = linked
    # a1 and a2 both hold A's first 15 s at d1's sound time and last as long as d1; only a1's voice is in d1
    assert {("d1", "a1"), ("d1", "a2"), ("s2", "a1"), ("s2", "a2")} <= fits.keys()
    assert fits[("d1", "a1")]["fit"] == "duet" and fits[("d1", "a2")]["fit"] is None
    assert json.loads(fits[("d1", "a2")]["audio"])["duration_match"]  # not told apart by length
    # a1's own material (bob) is heard in d1; a2 is the sound itself, with nothing of its own to hear
    assert ours["d1"][3]["audio"]["heard_own"] >= 0.5 and json.loads(fits[("d1", "a2")]["audio"])["heard_own"] is None
    # s2 opens like a1 and like a2 (the same sound at the same second); a1's voice in that opening decides
    assert fits[("s2", "a1")]["score"] > fits[("s2", "a2")]["score"]


def test_posts_that_open_alike_are_named_when_the_audio_cannot_choose(linked):
    ours, _ = linked
    parent, relation, confidence, evidence = ours["s3"]
    # a0 and a2 both open with A's first seconds and nothing of their own: a stitch of one of them, the more
    # similar opening (then time) picks, and both are named
    assert (relation, evidence["rule"]) == ("stitch", "audio_stitch")
    assert sorted(evidence["audio_equivalent_parents"]) == ["a0", "a2"] and evidence["audio_equivalent_count"] == 2
    assert parent == evidence["audio_equivalent_parents"][0]
    assert {"audio_tie_broken_by_similarity", "audio_tie_broken_by_time"} & set(evidence["signals"])
    assert confidence == pytest.approx(0.40)  # right about once in two
    assert "audio_equivalent_parents" not in ours["s1"][3]  # a stitch the audio places alone names no others


def test_the_explorer_says_when_a_parent_is_one_of_several_alike(linked, warehouse_file):
    path, _ = warehouse_file  # its last link_lineage run made audio-only claims (the `runs` fixture)
    con = duckdb.connect(str(path), read_only=True)
    try:
        tree = explore.cascade_of(con, "s3")
    finally:
        con.close()
    console = Console(width=400, record=True, color_system=None)
    console.print(explore.render_tree(tree, asked="s3"))
    lines = console.export_text().splitlines()
    s3 = next(line for line in lines if " s3 " in line)
    assert "stitch s3 @jo" in s3 and "parent 1 of 2 alike" in s3
    assert not any("alike" in line for line in lines if " s3 " not in line)


def test_a_reuse_of_the_music_a_post_made_is_no_duet_of_it(linked, fits):
    ours, _ = linked
    # u1 carries u0's whole audio, kim's voice included, with lee's on top: consistent with a duet, but kim's
    # voice is part of the music u0 made (m_u), so every reuse of m_u carries it: heard, and no evidence of a duet
    pair = json.loads(fits[("u1", "u0")]["audio"])
    assert fits[("u1", "u0")]["consistent"] == "duet" and fits[("u1", "u0")]["fit"] is None
    assert pair["duet_like"] and pair["parent_made_music"] and (pair["heard_own"] or 0) >= 0.5
    assert ours["u1"][:2] == ("u0", "sound_reuse") and ours["u1"][3]["rule"] == "music_id"


def test_caption_agreeing_with_audio_raises_confidence(linked):
    ours, without = linked
    parent, relation, confidence, evidence = ours["s2"]
    assert (parent, relation, evidence["rule"]) == ("a1", "stitch", "caption_stitch")
    assert "audio_stitch" in evidence["signals"] and evidence["conflicts"] == []
    assert confidence > without["s2"][2]


def test_caption_disagreeing_with_audio_is_a_recorded_conflict(linked):
    ours, _ = linked
    parent, relation, confidence, evidence = ours["d2"]
    assert (parent, relation, evidence["rule"]) == ("a2", "duet", "caption_duet")  # the caption still decides
    assert "audio_fits_other_post" in evidence["conflicts"]
    assert confidence <= 0.6


def test_by_default_the_audio_alone_claims_nothing_and_posts_fall_back(runs):
    default, without = runs["default"], runs["without"]
    # s1 (a stitch heard only in its audio) and d1 (a duet heard only in its audio) get what the other rules
    # give them, exactly as with no audio evidence at all: never an audio_* edge
    for child in ("s1", "d1", "r1", "a1", "a2", "s3", "u1"):
        assert default.get(child) == without.get(child), child
    assert default["d1"][:2] == ("a0", "sound_reuse")  # kept as the music id's reuse, not dropped
    assert "s1" not in default  # 4 s of song B: no sound match, no music id shared, no caption: no parent
    assert not any(e[3]["rule"].startswith("audio_") for e in default.values())


def test_by_default_the_audio_still_grades_captions(runs):
    default, without, audio_only = runs["default"], runs["without"], runs["audio_only"]
    assert default["s2"] == audio_only["s2"]  # the caption's stitch, confirmed by the audio: 0.99
    assert "audio_stitch" in default["s2"][3]["signals"] and default["s2"][2] > without["s2"][2]
    assert default["d2"][:2] == ("a2", "duet") and "audio_fits_other_post" in default["d2"][3]["conflicts"]
    assert default["d2"][2] <= 0.6
