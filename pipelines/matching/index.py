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
from pipelines.matching.landmarks import INDEX_TRIPLET_FAN, pair_hashes, triplet_keys

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
def lookup(con: duckdb.DuckDBPyConnection,
           settings: str = "match_sounds/lookup_begin") -> Iterator[duckdb.DuckDBPyConnection]:
    """Run candidate queries with the settings that let DuckDB answer a small chunk from an ART index (on
    `match_postings.key`, or with `match_sounds/lookup_landmarks_begin` on the landmark candidate tables) instead of
    scanning every posting, then restore the defaults so the connection's other joins plan as before."""
    warehouse.run_sql(con, settings)
    try:
        yield con
    finally:
        warehouse.run_sql(con, "match_sounds/lookup_end")


def add(con: duckdb.DuckDBPyConnection, audios: list[NewIndexAudio], day: date) -> None:
    """Index `audios` (inside the caller's transaction): postings of both signals, set-based inserts."""
    if not audios:
        return
    ids = [a.audio_id for a in audios]
    marks = [pair_hashes(a.peak_frames, a.peak_bins) for a in audios]
    new_index_audio = pl.DataFrame(
        {
            "audio_id": ids,
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
    new_landmark_postings = _postings(ids, marks, "hash", pl.UInt32).sort("hash")
    warehouse.run_sql(con, "match_sounds/index_add",
                      frames={"new_index_audio": new_index_audio, "new_landmark_postings": new_landmark_postings})
    warehouse.run_sql(con, "match_sounds/candidate_index_add",
                      frames=_candidate_frames(ids, marks, [(a.peak_frames, a.peak_bins) for a in audios]))


def add_missing_candidate_index(con: duckdb.DuckDBPyConnection) -> int:
    """Give indexed audio that predates the landmark candidate index (match_triplet_postings,
    match_audio_landmarks) its rows, from its stored peaks; returns how many audios were added. Without them a
    warehouse built before would never offer its older sounds as landmark candidates."""
    missing = [int(a) for (a,) in warehouse.fetch_rows(con, "match_sounds/candidate_index_missing")]
    if not missing:
        return 0
    stored = {int(a): (np.asarray(fr, np.int32), np.asarray(b, np.int32)) for a, fr, b in warehouse.fetch_rows(
        con, "match_sounds/ref_peaks", frames={"want_refs": pl.DataFrame({"audio_id": missing},
                                                                       schema={"audio_id": pl.Int32})})}
    # audio fingerprinted before peaks were stored has no landmarks to offer: an empty row marks it done
    none = (np.zeros(0, np.int32), np.zeros(0, np.int32))
    peaks = [stored.get(a, none) for a in missing]
    warehouse.run_sql(con, "match_sounds/candidate_index_add",
                      frames=_candidate_frames(missing, [pair_hashes(*p) for p in peaks], peaks))
    return len(missing)


def _postings(ids: list[int], pairs: list[tuple[np.ndarray, np.ndarray]], column: str,
              dtype: type[pl.DataType]) -> pl.DataFrame:
    """(column, audio_id, t) rows of each audio's (value, anchor frame) arrays."""
    return pl.DataFrame(
        {
            column: np.concatenate([v for v, _ in pairs]) if pairs else np.zeros(0),
            "audio_id": np.repeat(np.array(ids, dtype=np.int32), [v.size for v, _ in pairs]),
            "t": np.concatenate([t for _, t in pairs]).astype(np.int32) if pairs else np.zeros(0, np.int32),
        },
        schema={column: dtype, "audio_id": pl.Int32, "t": pl.Int32},
    )


def _candidate_frames(ids: list[int], marks: list[tuple[np.ndarray, np.ndarray]],
                      peaks: list[tuple[np.ndarray, np.ndarray]]) -> dict[str, pl.DataFrame]:
    """The rows of the landmark candidate index for these audios: their pair hashes in one row each, and their
    triplet postings (sorted by key, so the ART is built from ordered inserts)."""
    triplets = [triplet_keys(f, b, INDEX_TRIPLET_FAN) for f, b in peaks]
    return {
        "new_audio_landmarks": pl.DataFrame(
            {"audio_id": ids, "hashes": [h.astype(np.uint32) for h, _ in marks],
             "frames": [t.astype(np.int32) for _, t in marks]},
            schema={"audio_id": pl.Int32, "hashes": pl.List(pl.UInt32), "frames": pl.List(pl.Int32)}),
        "new_triplet_postings": _postings(ids, triplets, "key", pl.UInt64).sort("key"),
    }
