"""A rerun of an earlier day hears the index as that day's first run did (store.index_as_of).

When day D is rerun over a warehouse that holds later days, the index still holds the audio those days added.
Before the day was matched "as of" itself, its files matched sounds created after them, and a full rerun gave other
sounds and merges than the first run (the demo world: 107 -> 113 sounds, 2 -> 8 merges). Real encoded and decoded
songs (tests/support/media.py) are indexed with the pipeline's own code into a real DuckDB file: song A on day 1,
song B on day 3; a clip of each is then matched as day 2 and as day 3.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import polars as pl
import pytest

from pipelines import warehouse
from pipelines.audio.chromaprint import raw_fingerprint
from pipelines.audio.decode import SAMPLE_RATE, decode_pcm
from pipelines.audio.peaks import peaks
from pipelines.matching import engine
from pipelines.matching.resolve import is_primary
from pipelines.matching.types import Query
from tests.support import media
from tests.support.index import index_songs

DAY1, DAY2, DAY3 = date(2024, 5, 1), date(2024, 5, 2), date(2024, 5, 3)


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    d = tmp_path_factory.mktemp("as_of")
    wav = {n: media.tone_music(d / f"{n}.wav", 20.0, seed=seed) for n, seed in (("a", 81), ("b", 82))}
    con = warehouse.connect(d / "as_of.duckdb")
    index_songs(con, {"a": decode_pcm(media.encode(wav["a"], d / "a.m4a"))}, 0, DAY1)
    index_songs(con, {"b": decode_pcm(media.encode(wav["b"], d / "b.m4a"))}, 1, DAY3)
    queries = []
    for qid, name in enumerate(("a", "b")):
        pcm = decode_pcm(media.encode(media.trim(wav[name], d / f"c{name}.wav", 3.0, 15.0), d / f"clip_{name}.mp3"))
        frames, bins = peaks(pcm)
        queries.append(Query(qid, f"clip_{name}", pcm.size / SAMPLE_RATE, raw_fingerprint(pcm), frames, bins))
    yield con, queries
    con.close()


def _heard(con, queries: list[Query], day: date) -> dict[str, set[str]]:
    """The sounds each clip is heard as (primary matches) against the index as of `day`."""
    audio = {q.audio_sha256: q for q in queries}
    found = engine.match_against_index(con, _frame(queries), 0, len(queries), None, day=day).matches
    sounds = dict(con.execute("SELECT audio_id, sound_id FROM match_audio").fetchall())
    return {sha: {sounds[m.ref] for m in ms if m.ref >= 0 and is_primary([m], audio[sha].duration_s)}
            for sha, ms in found.items()}


def _frame(queries: list[Query]) -> pl.DataFrame:
    """The clips as store.day_audio rows."""
    return pl.DataFrame({
        "audio_sha256": [q.audio_sha256 for q in queries], "duration_s": [q.duration_s for q in queries],
        "fingerprint": [q.fingerprint.tolist() for q in queries],
        "peak_frames": [q.peak_frames.tolist() for q in queries], "peak_bins": [q.peak_bins.tolist() for q in queries]},
        schema={"audio_sha256": pl.String, "duration_s": pl.Float64, "fingerprint": pl.List(pl.UInt32),
                "peak_frames": pl.List(pl.Int32), "peak_bins": pl.List(pl.Int32)})


def test_a_day_does_not_hear_sounds_added_after_it(world):
    con, queries = world
    assert _heard(con, queries, DAY2) == {"clip_a": {"snd-a"}, "clip_b": set()}


def test_the_day_that_added_a_sound_and_later_ones_hear_it(world):
    con, queries = world
    assert _heard(con, queries, DAY3) == {"clip_a": {"snd-a"}, "clip_b": {"snd-b"}}
    assert np.all([q.fingerprint.size for q in queries])  # the clips were fingerprinted (not too short)
