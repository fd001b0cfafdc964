"""The first pass leaves a file's speed steps to the second pass when an earlier file of the same day plays it as
posted (pipelines/matching/earlier_files.py), and the second pass still runs them where that was not enough.

Real encoded and decoded audio (tests/support/media.py) through the real stages into a real DuckDB file. One day,
in posting order, none of it known to the index before:
- `a` (09:00): song A, 20 s: a new sound;
- `a_copy` (09:30): A again, another encoder: played whole by `a`, so it is deferred, and heard as snd-a;
- `a_stitch` (10:00): A's first 3 s, then song C: `a` aligns with it hundreds of times, but only over its first
  seconds, so it is not deferred (it is a new sound, and needs every step to be one);
- `b` (10:30): song B: nothing earlier plays it.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path

import pytest

from pipelines import warehouse as wh_mod
from pipelines.audio.decode import decode_pcm
from pipelines.matching import engine, store
from pipelines.stages import fingerprint, ingest, match_sounds, validate
from tests.support import media
from tests.support.db import query as _q
from tests.support.index import index_songs

DAY = date(2024, 5, 1)


@pytest.fixture(scope="module")
def day(tmp_path_factory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("earlier_files")
    work = root / "work"
    work.mkdir()
    folder = root / "landing" / f"dt={DAY}" / "media"
    folder.mkdir(parents=True)
    song_a = media.tone_music(work / "a.wav", 20.0, seed=31)
    song_b = media.tone_music(work / "b.wav", 18.0, seed=32)
    song_c = media.tone_music(work / "c.wav", 15.0, seed=33)
    t0 = datetime(2024, 5, 1, 9)
    items = [
        ("a", media.encode(song_a, folder / "a.m4a", bitrate="96k")),
        ("a_copy", media.encode(song_a, folder / "a_copy.mp3")),
        ("a_stitch", media.concat([media.trim(song_a, work / "a_head.wav", 0.0, 3.0), song_c],
                                  folder / "a_stitch.m4a")),
        ("b", media.encode(song_b, folder / "b.ogg")),
    ]
    lines = ["post_id,created_at,author,caption,music_id,music_title,media_path"]
    for k, (pid, path) in enumerate(items):
        at = t0 + timedelta(minutes=30 * k)
        lines.append(f"{pid},{at.isoformat()}Z,user_{pid},caption,m_{pid},original sound - {pid},media/{path.name}")
    (root / "landing" / f"dt={DAY}" / "export.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    landing = root / "landing"
    wh = root / "wh.duckdb"
    mp = pytest.MonkeyPatch()
    mp.setenv("TRENDTRACE_LANDING", str(landing))
    mp.setenv("TRENDTRACE_WAREHOUSE", str(wh))
    for stage in (ingest, validate, fingerprint):
        assert stage.run(DAY, "t").status == "success"
    yield landing, wh
    mp.undo()


def _first_pass(wh: Path, landing: Path, mp: pytest.MonkeyPatch) -> tuple[set[str], set[str]]:
    """(the posts the first pass deferred, the posts it ran the speed steps for)."""
    stepped: list[int] = []
    real = engine._speed_steps

    def spy(con, unexplained, *args):
        stepped.extend(q.qid for q in unexplained)
        return real(con, unexplained, *args)

    mp.setattr(engine, "_speed_steps", spy)
    con = wh_mod.connect(wh)
    try:
        audio = store.day_audio(con, DAY)
        first = engine.match_against_index(con, audio, 0, audio.height, landing / f"dt={DAY}", day=DAY)
    finally:
        con.close()
        mp.undo()
    post = dict(zip(audio["audio_sha256"].to_list(), audio["first_post_id"].to_list(), strict=True))
    return {post[s] for s in first.deferred}, {audio["first_post_id"][i] for i in stepped}


def test_a_file_an_earlier_one_plays_whole_skips_the_first_pass_speed_steps(day):
    landing, wh = day
    deferred, stepped = _first_pass(wh, landing, pytest.MonkeyPatch())
    assert deferred == {"a_copy"}
    # every file the index cannot explain takes the speed steps in the first pass, except the deferred one
    assert stepped == {"a", "a_stitch", "b"}


def test_the_deferred_file_is_heard_as_the_earlier_one_and_the_stitch_keeps_its_own_sound(day):
    _, wh = day
    result = match_sounds.run(DAY, "t")
    assert result.status == "success", result.message
    primary = dict(_q(wh, "SELECT post_id, sound_id FROM post_sounds WHERE role = 'primary'"))
    assert primary == {"a": "snd-a", "a_copy": "snd-a", "a_stitch": "snd-a_stitch", "b": "snd-b"}
    contained = _q(wh, "SELECT sound_id FROM post_sounds WHERE post_id = 'a_stitch' AND role = 'contained'")
    assert contained == [("snd-a",)]


def test_a_deferred_file_the_day_does_not_explain_takes_the_speed_steps_against_the_whole_index(tmp_path):
    """The second pass's fallback: a deferred file still unexplained after hearing the day as posted is matched at
    speed against the whole index (audio id 0 on), not only what the day added."""
    song = media.tone_music(tmp_path / "d.wav", 20.0, seed=34)
    fast = media._ffmpeg(["-i", str(song), "-af", "asetrate=44100*1.25,aresample=44100"], tmp_path / "fast.m4a")
    con = wh_mod.connect(tmp_path / "fallback.duckdb")
    try:
        index_songs(con, {"d": decode_pcm(media.encode(song, tmp_path / "d.m4a"))}, 0, DAY - timedelta(days=1))
        frame = _as_day_audio(decode_pcm(fast))
        q = engine.queries_of(frame, 0)[0]
        later = store.next_audio_id(con)  # the second pass's `since_audio_id`: what the day added (nothing here)
        with store.index_as_of(DAY):
            plain = engine.match_chunk(con, [q], since_audio_id=later)[q.qid]
            deferred = engine.match_chunk(con, [q], since_audio_id=later, deferred={q.qid})[q.qid]
    finally:
        con.close()
    assert plain == []
    assert any(m.ref == 0 and m.method.startswith("landmarks_speed") and abs(m.speed - 1.25) < 0.03
               for m in deferred), deferred


def _as_day_audio(pcm):
    """One decoded file as a store.day_audio row."""
    import polars as pl

    from pipelines.audio.chromaprint import raw_fingerprint
    from pipelines.audio.decode import SAMPLE_RATE
    from pipelines.audio.peaks import peaks

    frames, bins = peaks(pcm)
    return pl.DataFrame({
        "audio_sha256": ["fast"], "duration_s": [pcm.size / SAMPLE_RATE],
        "fingerprint": [raw_fingerprint(pcm).tolist()], "peak_frames": [frames.tolist()],
        "peak_bins": [bins.tolist()]},
        schema={"audio_sha256": pl.String, "duration_s": pl.Float64, "fingerprint": pl.List(pl.UInt32),
                "peak_frames": pl.List(pl.Int32), "peak_bins": pl.List(pl.Int32)})
