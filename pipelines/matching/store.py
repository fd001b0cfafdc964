"""The only module that talks to DuckDB for matching: the sound index (adds, lookups, the audio of references),
the day's audio and what the resolution rules need to know about sounds indexed before.

Every statement lives in sql/match_sounds/ with bound parameters; the query-side frames (analyse.q_items,
q_marks, q_triplets, speed_estimate.q_pairs) become views only for the call that reads them, through
pipelines.warehouse (`run_sql`, `fetch_rows`, `query_frame` with `frames=`). The voting parameters bound here
are pipelines/matching/vote.py's and speed_estimate.py's.

Only audio that created a sound is indexed, and copies heard only at another speed (a re-upload or a reuse is
found through the sound it matched), so the index grows with the number of distinct sounds, not with the number
of posts.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date

import duckdb
import numpy as np
import polars as pl

from pipelines import warehouse
from pipelines.audio.peaks import FRAME_S
from pipelines.matching import speed_estimate, vote
from pipelines.matching.landmarks import INDEX_TRIPLET_FAN, pair_hashes, triplet_keys
from pipelines.matching.types import NewIndexAudio

# The day's input


def day_audio(con: duckdb.DuckDBPyConnection, day: date) -> pl.DataFrame:
    """The day's distinct audio in first-posted order, with fingerprint, peaks and the posts carrying it."""
    return warehouse.query_frame(con, "match_sounds/day_audio", {"day": day})


def indexed_audio(con: duckdb.DuckDBPyConnection, day: date) -> list[tuple]:
    """(audio_id, sound_id, via_copy_s, via_sound_s, via_speed, via_pitch) of the audio indexed up to `day`."""
    return warehouse.fetch_rows(con, "match_sounds/audio_sounds", {"day": day})


def known_sounds(con: duckdb.DuckDBPyConnection) -> list[tuple]:
    """(sound_id, merged_into, origin_at, origin_post_id, duration_s) of every sound."""
    return warehouse.fetch_rows(con, "match_sounds/known_sounds")


def recent_audio(con: duckdb.DuckDBPyConnection, day: date | None, days: int, limit: int) -> list[int]:
    """Audio ids of the `limit` sounds heard in the most posts over the `days` ingest days before `day` (None: the
    day after the last one matched), indexed before it (pipelines/matching/recent.py)."""
    return [int(a) for (a,) in warehouse.fetch_rows(con, "match_sounds/recent_audio",
                                                    {"day": day, "days": days, "limit": limit})]


# Adding to the index


def next_audio_id(con: duckdb.DuckDBPyConnection) -> int:
    """The first free audio id: audio joining the index is numbered from it."""
    return int(warehouse.fetch_rows(con, "match_sounds/next_audio_id")[0][0])


def add_to_index(con: duckdb.DuckDBPyConnection, audios: list[NewIndexAudio], day: date) -> None:
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
            "via_pitch": [a.via[3] if a.via else None for a in audios],
        },
        schema={"audio_id": pl.Int32, "audio_sha256": pl.String, "sound_id": pl.String, "n_items": pl.Int32,
                "n_landmarks": pl.Int32, "added_day": pl.Date, "via_copy_s": pl.Float64,
                "via_sound_s": pl.Float64, "via_speed": pl.Float64, "via_pitch": pl.Float64},
    )
    new_landmark_postings = _postings(ids, marks, "hash", pl.UInt32).sort("hash")
    warehouse.run_sql(con, "match_sounds/index_add",
                      frames={"new_index_audio": new_index_audio, "new_landmark_postings": new_landmark_postings})
    warehouse.run_sql(con, "match_sounds/candidate_index_add",
                      frames=_candidate_frames(ids, marks, [(a.peak_frames, a.peak_bins) for a in audios]))


def missing_candidate_index(con: duckdb.DuckDBPyConnection) -> list[int]:
    """Indexed audio without rows in the landmark candidate index (indexed by a version before it existed)."""
    return [int(a) for (a,) in warehouse.fetch_rows(con, "match_sounds/candidate_index_missing")]


def add_missing_candidate_index(con: duckdb.DuckDBPyConnection) -> int:
    """Give indexed audio that predates the landmark candidate index (match_triplet_postings,
    match_audio_landmarks) its rows, from its stored peaks; returns how many audios were added. Without them a
    warehouse built before would never offer its older sounds as landmark candidates."""
    missing = missing_candidate_index(con)
    if not missing:
        return 0
    stored = ref_peaks(con, missing)
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


# Memory

SPEED_BATCH_QUERIES = 8  # queries whose speed variants vote in one statement (landmark_candidates)
MEMORY_LIMIT = "2GB"  # DuckDB's buffer pool while a day is matched (TRENDTRACE_MATCH_MEMORY overrides it)


@contextmanager
def bounded_memory(con: duckdb.DuckDBPyConnection) -> Iterator[duckdb.DuckDBPyConnection]:
    """Match with DuckDB's memory limit at MEMORY_LIMIT (or $TRENDTRACE_MATCH_MEMORY, e.g. "4GB"), restored after:
    the speed passes' joins spill beyond it instead of taking most of a shared machine's RAM (docs/scaling.md)."""
    warehouse.run_sql(con, "match_sounds/memory_begin",
                      {"memory_limit": os.environ.get("TRENDTRACE_MATCH_MEMORY") or MEMORY_LIMIT})
    try:
        yield con
    finally:
        warehouse.run_sql(con, "match_sounds/memory_end")


# Candidate lookups

_AS_OF: list[date] = []  # the ingest days being matched (index_as_of), innermost last


@contextmanager
def index_as_of(day: date | None) -> Iterator[None]:
    """Candidate lookups inside hear the index as it was when ingest day `day` was matched: audio added on later
    days (present when an earlier day is rerun over a warehouse that holds later days) is not heard, so the rerun
    gives that day's rows of a first run instead of matching files to sounds created after them. None: the whole
    index (`trendtrace identify`)."""
    _AS_OF.append(day or date.max)
    try:
        yield
    finally:
        _AS_OF.pop()


def _as_of() -> date:
    return _AS_OF[-1] if _AS_OF else date.max



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


def chromaprint_candidates(con: duckdb.DuckDBPyConnection, q_items: pl.DataFrame,
                           chunk_refs: bool = True, since_audio_id: int = 0) -> pl.DataFrame:
    """(qid, ref, off, votes): the best Chromaprint alignments of the chunk `q_items` by offset voting, against
    the indexed audio from id `since_audio_id` on and (if `chunk_refs`) the chunk's earlier queries (ref = -1 -
    qid)."""
    with lookup(con):
        return warehouse.query_frame(
            con, "match_sounds/candidates_chromaprint",
            {"min_votes": vote.MIN_CP_VOTES, "offsets_per_ref": vote.CP_OFFSETS_PER_REF, "top_k": vote.CP_TOP_K,
             "refs_per_sound": vote.REFS_PER_SOUND, "chunk_refs": chunk_refs, "since_audio_id": since_audio_id,
             "as_of": _as_of()},
            frames={"q_items": q_items})


def candidate_pairs(con: duckdb.DuckDBPyConnection, q_triplets: pl.DataFrame,
                    tol: int = vote.TRIPLET_TOL) -> pl.DataFrame:
    """(hash, audio_id, t): the landmark pairs of the indexed audios that the triplet keys `q_triplets(qid,
    variant, key, t)` point to with aligned votes within +-`tol` frames (sql/match_sounds/candidates_triplets.sql).
    Reading the pairs of every indexed audio instead would cost in proportion to the index: a 21-bit pair hash
    has ~20 postings per 10k sounds."""
    return named_candidates(con, q_triplets, tol)[1]


def named_candidates(con: duckdb.DuckDBPyConnection, q_triplets: pl.DataFrame,
                     tol: int = vote.TRIPLET_TOL, since_audio_id: int = 0) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(`named(qid, ref)`: the indexed audios (from id `since_audio_id` on) each query's triplet keys name,
    `lm_index(hash, audio_id, t)`: the pairs of their union), as `candidate_pairs`. The measured speed factors vote
    against each query's own."""
    with lookup(con, "match_sounds/lookup_landmarks_begin"):
        named = warehouse.query_frame(
            con, "match_sounds/candidates_triplets", frames={"q_triplets": q_triplets},
            params={"min_votes": vote.TRIPLET_MIN_VOTES, "top_refs": vote.TRIPLET_TOP_REFS, "tol": tol,
                    "top_head_refs": vote.TRIPLET_TOP_HEAD_REFS, "head_frames": int(vote.STITCH_HEAD_S / FRAME_S),
                    "max_off": vote.STITCH_MAX_OFF, "since_audio_id": since_audio_id, "as_of": _as_of()})
        refs = sorted({int(r) for r in named["ref"].to_list()}) if named.height else []
        lists = warehouse.query_frame(con, "match_sounds/ref_landmarks", frames=_want_refs(refs))
    named = named.select(pl.col("qid").cast(pl.Int32), pl.col("ref").cast(pl.Int32)) if named.height else \
        pl.DataFrame(schema={"qid": pl.Int32, "ref": pl.Int32})
    return named, _exploded(lists)


def _exploded(lists: pl.DataFrame) -> pl.DataFrame:
    """match_audio_landmarks rows (audio_id, hashes, frames) as one (hash, audio_id, t) row per pair."""
    return (lists.explode(["hashes", "frames"])
            .select(pl.col("hashes").alias("hash"), "audio_id", pl.col("frames").alias("t"))
            .drop_nulls())


def stitch_candidates(con: duckdb.DuckDBPyConnection, q_marks: pl.DataFrame, lm_index: pl.DataFrame,
                      chunk_refs: bool = True) -> pl.DataFrame:
    """(qid, ref, off, votes, qts, hashes): the stitch hypothesis, landmarks of `q_marks` aligned at offset ~0 in
    the first seconds with the pairs `lm_index` (and the chunk's earlier queries if `chunk_refs`)."""
    return warehouse.query_frame(
        con, "match_sounds/candidates_stitch",
        {"head_frames": int(vote.STITCH_HEAD_S / FRAME_S), "max_off": vote.STITCH_MAX_OFF,
         "min_votes": vote.STITCH_MIN_VOTES, "chunk_refs": chunk_refs},
        frames={"q_marks": q_marks, "lm_index": lm_index})


def landmark_candidates(con: duckdb.DuckDBPyConnection, q_marks: pl.DataFrame, lm_index: pl.DataFrame,
                        speed: bool = False, chunk_refs: bool = True, weak: bool = False) -> pl.DataFrame:
    """(qid, variant, ref, off, votes, qts, hashes): the best landmark alignments of `q_marks` by offset voting
    against the pairs `lm_index` (and the chunk's earlier queries if `chunk_refs`), as posted or (`speed`) of the
    speed variants only, with the speed presets' looser thresholds; `weak`: as posted, the weak alignments the
    peak-presence test may confirm (fewer votes, a stricter ratio to the pair's best other offset)."""
    if weak:
        votes, top_k, ratio = vote.MIN_LM_VOTES_WEAK, vote.LM_TOP_K_WEAK, vote.LM_MIN_RATIO_WEAK
    elif speed:
        votes, top_k, ratio = vote.MIN_LM_VOTES_SPEED, vote.LM_TOP_K, vote.LM_MIN_RATIO_SPEED
    else:
        votes, top_k, ratio = vote.MIN_LM_VOTES, vote.LM_TOP_K, vote.LM_MIN_RATIO
    params = {"min_votes": votes, "top_k": top_k, "refs_per_sound": vote.REFS_PER_SOUND, "min_ratio": ratio,
              "min_variant": 1 if speed else 0, "chunk_refs": chunk_refs}
    if not speed:
        return warehouse.query_frame(con, "match_sounds/candidates_landmarks", params,
                                     frames={"q_marks": q_marks, "lm_index": lm_index})
    # The speed variants' votes, SPEED_BATCH_QUERIES queries at a time against the whole lm_index (and every chunk
    # query as a reference): the same rows, as every step of the SQL is per query, in the same order (by qid first),
    # but a join of one batch's variants with the chunk's union of named pairs instead of all of them at once, which
    # grows with the chunk squared (64 merge-pass picks x 35 presets at 10 000 indexed sounds: over 2 GB, an out of
    # memory error under store.bounded_memory).
    as_posted = q_marks.filter(pl.col("variant") == 0)
    variants = q_marks.filter(pl.col("variant") >= 1)
    qids = variants["qid"].unique().sort().to_list()
    parts = []
    for start in range(0, len(qids), SPEED_BATCH_QUERIES):
        batch = variants.filter(pl.col("qid").is_in(qids[start:start + SPEED_BATCH_QUERIES]))
        parts.append(warehouse.query_frame(con, "match_sounds/candidates_landmarks", params,
                                           frames={"q_marks": pl.concat([as_posted, batch]), "lm_index": lm_index}))
    if not parts:
        return warehouse.query_frame(con, "match_sounds/candidates_landmarks", params,
                                     frames={"q_marks": as_posted, "lm_index": lm_index})
    return pl.concat(parts)


def speed_estimate_candidates(con: duckdb.DuckDBPyConnection, q_pairs: pl.DataFrame,
                              named: pl.DataFrame | None = None) -> pl.DataFrame:
    """(qid, variant, ref, abin, obin, votes): the best (time factor, offset) cells per reference and pitch
    factor, speed_estimate.TOP_K per query (an empty frame for no pairs), against the indexed audios `named(qid,
    ref)` names for each query (sql/match_sounds/candidates_speed_estimate_named.sql: their pairs read through the
    ART of match_audio_landmarks), or with `named` None against every indexed pair posting (a scan of
    match_landmark_postings, linear in the index: the reference the named lookup is checked against)."""
    if q_pairs.is_empty() or (named is not None and named.is_empty()):
        return pl.DataFrame()
    params = {"min_dt": speed_estimate.MIN_DT, "a_step": speed_estimate.TIME_STEP,
              "a_min": speed_estimate.TIME_FACTOR_RANGE[0], "a_max": speed_estimate.TIME_FACTOR_RANGE[1],
              "off_frames": speed_estimate.OFF_FRAMES, "min_cell_votes": speed_estimate.MIN_CELL_VOTES,
              "min_votes": speed_estimate.MIN_VOTES, "top_k": speed_estimate.TOP_K,
              "cells_per_ref": speed_estimate.CELLS_PER_REF}
    if named is None:
        return warehouse.query_frame(con, "match_sounds/candidates_speed_estimate", params, frames={"q_pairs": q_pairs})
    with lookup(con, "match_sounds/lookup_landmarks_begin"):
        lists = warehouse.query_frame(con, "match_sounds/ref_landmarks",
                                      frames=_want_refs(sorted({int(r) for r in named["ref"].to_list()})))
    return warehouse.query_frame(con, "match_sounds/candidates_speed_estimate_named", params,
                                 frames={"q_pairs": q_pairs, "named_refs": named, "ref_pairs": _exploded(lists)})


# References


def _want_refs(audio_ids: list[int]) -> dict[str, pl.DataFrame]:
    """The `want_refs(audio_id)` view the reference-loading queries read."""
    return {"want_refs": pl.DataFrame({"audio_id": audio_ids}, schema={"audio_id": pl.Int32})}


def ref_fingerprints(con: duckdb.DuckDBPyConnection, audio_ids: list[int]) -> dict[int, np.ndarray]:
    """Chromaprint items of indexed audio, for BER verification."""
    if not audio_ids:
        return {}
    rows = warehouse.fetch_rows(con, "match_sounds/ref_fingerprints", frames=_want_refs(audio_ids))
    return {int(a): np.asarray(fp, dtype=np.uint32) for a, fp in rows}


def ref_landmarks(con: duckdb.DuckDBPyConnection, audio_ids: list[int]) -> dict[int, tuple[np.ndarray, np.ndarray]]:
    """Landmark pairs (hash, anchor frame) of indexed audio, as stored in match_audio_landmarks."""
    if not audio_ids:
        return {}
    rows = warehouse.fetch_rows(con, "match_sounds/ref_landmarks", frames=_want_refs(audio_ids))
    return {int(a): (np.asarray(h, np.uint32), np.asarray(t, np.int32)) for a, h, t in rows}


def ref_peaks(con: duckdb.DuckDBPyConnection, audio_ids: list[int]) -> dict[int, tuple[np.ndarray, np.ndarray]]:
    """Stored spectral peaks (frames, bins) of indexed audio."""
    if not audio_ids:
        return {}
    rows = warehouse.fetch_rows(con, "match_sounds/ref_peaks", frames=_want_refs(audio_ids))
    return {int(a): (np.asarray(f, np.int32), np.asarray(b, np.int32)) for a, f, b in rows}
