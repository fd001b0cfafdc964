"""The sound identity index in DuckDB: each distinct sound's audio once, Chromaprint and landmark postings.

Only audio that created a sound is indexed (a re-upload or a reuse is found through the sound it matched),
so the index grows with the number of distinct sounds, not with the number of posts.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date

import duckdb
import numpy as np
import polars as pl

from pipelines import warehouse
from pipelines.matching.landmarks import pair_hashes

# how an indexed copy of a sound plays it: (second in the copy, second in the sound, sound seconds per copy second)
Via = tuple[float, float, float]


@dataclass(frozen=True, slots=True)
class NewIndexAudio:
    audio_id: int
    audio_sha256: str
    sound_id: str
    n_items: int
    peak_frames: np.ndarray
    peak_bins: np.ndarray
    via: Via | None = None  # a copy of the sound (not its own audio): how it plays the sound


def next_audio_id(con: duckdb.DuckDBPyConnection) -> int:
    return int(con.execute("SELECT coalesce(max(audio_id) + 1, 0) FROM match_audio").fetchall()[0][0])


@contextmanager
def lookup(con: duckdb.DuckDBPyConnection) -> Iterator[duckdb.DuckDBPyConnection]:
    """Run candidate queries with the settings that let DuckDB answer a small chunk from the ART index on
    `match_postings.key` instead of scanning every posting (sql/ops/match_lookup_begin.sql), then restore
    the defaults so the connection's other joins plan as before."""
    warehouse.run_sql(con, "ops/match_lookup_begin")
    try:
        yield con
    finally:
        warehouse.run_sql(con, "ops/match_lookup_end")


def add(con: duckdb.DuckDBPyConnection, audios: list[NewIndexAudio], day: date) -> None:
    """Index `audios` (inside the caller's transaction): postings of both signals, set-based inserts."""
    if not audios:
        return
    marks = [pair_hashes(a.peak_frames, a.peak_bins) for a in audios]
    new_index_audio = pl.DataFrame(
        {
            "audio_id": [a.audio_id for a in audios],
            "audio_sha256": [a.audio_sha256 for a in audios],
            "sound_id": [a.sound_id for a in audios],
            "n_items": [a.n_items for a in audios],
            "n_landmarks": [int(h.size) for h, _ in marks],
            "added_day": [day] * len(audios),
            "via_copy_s": [a.via[0] if a.via else None for a in audios],
            "via_sound_s": [a.via[1] if a.via else None for a in audios],
            "via_speed": [a.via[2] if a.via else None for a in audios],
        },
        schema={"audio_id": pl.Int32, "audio_sha256": pl.String, "sound_id": pl.String, "n_items": pl.Int32,
                "n_landmarks": pl.Int32, "added_day": pl.Date, "via_copy_s": pl.Float64,
                "via_sound_s": pl.Float64, "via_speed": pl.Float64},
    )
    hashes = np.concatenate([h for h, _ in marks]) if marks else np.zeros(0, np.uint32)
    new_landmark_postings = pl.DataFrame(
        {
            "hash": hashes,
            "audio_id": np.repeat(np.array([a.audio_id for a in audios], dtype=np.int32), [h.size for h, _ in marks]),
            "t": np.concatenate([t for _, t in marks]).astype(np.int32),
        },
        schema={"hash": pl.UInt32, "audio_id": pl.Int32, "t": pl.Int32},
    ).sort("hash")
    warehouse.run_sql(con, "ops/match_index_add",
                      frames={"new_index_audio": new_index_audio, "new_landmark_postings": new_landmark_postings})
