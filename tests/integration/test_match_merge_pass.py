"""The end-of-day merge pass (engine.requery_merges, Resolver.requery_merge) on real audio and a real
DuckDB file: it must merge two sounds that are one (a copy whose own match failed), record the merge, and leave
a mixture over another track alone.

One day, in posting order:
- `a_trim` (09:00): the first 8 s of song A. A is not known yet, so it creates snd-a_trim.
- `mix` (09:30): song C with the first 15 s of song B mixed in as loud (a duet over another track): a new sound.
- `a_full` (10:00): all 20 s of A. Its own match fails: snd-a_trim covers only 8 of its 20 s, so it creates
  snd-a_full and contains snd-a_trim. Only the merge pass, querying snd-a_trim's file again against the index
  that now holds snd-a_full, can show the two are one sound.
- `c_copy` (10:30): a clean copy of C: heard under B in the mixture, so its sound is snd-mix.
- `b_full` (11:00): all 30 s of B: snd-mix covers only its first 15 s, so it creates snd-b_full. Re-queried,
  neither sound's files are covered by the other (the mixture shares only part of B, and c_copy none of it):
  no merge. (With B 3 dB louder and denser peaks, snd-b_full covers the mixture's own file while c_copy stays
  uncovered: one vote of two, no majority; a stricter variant for when the peaks change.)
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path

import pytest

from pipelines.matching import engine
from pipelines.stages import fingerprint, ingest, match_sounds, validate
from tests.support import media
from tests.support.db import query as _q

DAY = date(2024, 5, 1)


@pytest.fixture(scope="module")
def landing(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("merge_pass")
    work = root / "work"
    work.mkdir()
    folder = root / "landing" / f"dt={DAY}" / "media"
    folder.mkdir(parents=True)
    song_a = media.tone_music(work / "a.wav", 20.0, seed=21)
    song_b = media.tone_music(work / "b.wav", 30.0, seed=22)
    song_c = media.tone_music(work / "c.wav", 15.0, seed=23)
    t0 = datetime(2024, 5, 1, 9)
    items = [
        ("a_trim", t0, media.encode(song_a, folder / "a_trim.m4a", bitrate="96k"), 8.0),
        ("mix", t0 + timedelta(minutes=30), media.mix(song_c, song_b, folder / "mix.m4a", b_gain_db=0.0), 15.0),
        ("a_full", t0 + timedelta(hours=1), media.encode(song_a, folder / "a_full.mp3"), None),
        ("c_copy", t0 + timedelta(minutes=90), media.encode(song_c, folder / "c_copy.ogg"), None),
        ("b_full", t0 + timedelta(hours=2), media.encode(song_b, folder / "b_full.m4a"), None),
    ]
    lines = ["post_id,created_at,author,caption,music_id,music_title,media_path"]
    for pid, at, path, keep_s in items:
        if keep_s is not None:  # cut to the first `keep_s` seconds (the mixture: as long as C)
            cut = work / f"cut_{path.name}"
            path.rename(cut)
            media._ffmpeg(["-t", f"{keep_s}", "-i", str(cut), "-c:a", "aac", "-b:a", "96k"], path)
        lines.append(f"{pid},{at.isoformat()}Z,user_{pid},caption,m_{pid},original sound - {pid},media/{path.name}")
    (root / "landing" / f"dt={DAY}" / "export.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return root / "landing"


@pytest.fixture(scope="module")
def warehouse(landing, tmp_path_factory):
    wh = tmp_path_factory.mktemp("merge_pass_wh") / "wh.duckdb"
    mp = pytest.MonkeyPatch()
    mp.setenv("TRENDTRACE_LANDING", str(landing))
    mp.setenv("TRENDTRACE_WAREHOUSE", str(wh))
    for stage in (ingest, validate, fingerprint):
        assert stage.run(DAY, "t").status == "success"
    yield wh, mp
    mp.undo()


def _primary(wh: Path) -> dict[str, str]:
    return dict(_q(wh, "SELECT post_id, sound_id FROM post_sounds WHERE role = 'primary'"))


def test_without_the_merge_pass_the_copy_stays_a_second_sound(warehouse):
    wh, mp = warehouse
    mp.setattr(engine, "requery_merges", lambda con, resolver, members, profile=None: [])
    try:
        assert match_sounds.run(DAY, "no-pass").status == "success"
    finally:
        mp.setattr(engine, "requery_merges", _real_requery_merges)
    sound = _primary(wh)
    # the scenario really needs the pass: each resolution on its own keeps A as two sounds
    assert sound["a_trim"] == "snd-a_trim" and sound["a_full"] == "snd-a_full", sound
    contained = _q(wh, "SELECT sound_id FROM post_sounds WHERE post_id = 'a_full' AND role = 'contained'")
    assert contained == [("snd-a_trim",)]
    assert _q(wh, "SELECT * FROM sound_merges") == []


def test_the_merge_pass_merges_the_copy_and_records_why(warehouse):
    wh, _ = warehouse
    result = match_sounds.run(DAY, "with-pass")  # a rerun of the day: replaces the previous run's rows
    assert result.status == "success", result.message
    merges = _q(wh, "SELECT sound_id, into_sound_id, via_post_id, method, reason, day FROM sound_merges")
    assert len(merges) == 1, merges
    sound_id, into, via, method, reason, day = merges[0]
    # later origin into earlier: the full version is merged into the trim posted an hour before it
    assert (sound_id, into, via, day) == ("snd-a_full", "snd-a_trim", "a_trim", DAY)
    assert "queried again against the index" in reason and method in ("chromaprint", "landmarks")
    sound = _primary(wh)
    assert sound["a_trim"] == sound["a_full"] == "snd-a_trim"
    state = dict(_q(wh, "SELECT sound_id, merged_into FROM sounds"))
    assert state["snd-a_full"] == "snd-a_trim" and state["snd-a_trim"] is None
    assert dict(_q(wh, "SELECT sound_id, n_posts FROM sounds"))["snd-a_trim"] == 2


def test_a_mixture_over_another_track_is_not_merged(warehouse):
    wh, _ = warehouse
    assert match_sounds.run(DAY, "with-pass-again").status == "success"
    sound = _primary(wh)
    # C's clean copy is heard in the mixture; B's full version is a sound of its own that contains the mixture
    assert sound["mix"] == sound["c_copy"] == "snd-mix", sound
    assert sound["b_full"] == "snd-b_full", sound
    assert {s for s, in _q(wh, "SELECT sound_id FROM post_sounds WHERE post_id = 'b_full' AND role = 'contained'")} \
        == {"snd-mix"}
    state = dict(_q(wh, "SELECT sound_id, merged_into FROM sounds"))
    assert state["snd-mix"] is None and state["snd-b_full"] is None
    assert not _q(wh, "SELECT * FROM sound_merges WHERE 'snd-mix' IN (sound_id, into_sound_id)")


_real_requery_merges = engine.requery_merges
