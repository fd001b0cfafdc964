"""Pure query-side analysis: a chunk of queries keyed for the store's candidate lookups, as posted or at the speed
presets (peaks mapped back, no decoding). Each function returns the frame under the view name its SQL reads.

Hashing and keying themselves live in pipelines/matching/landmarks.py; this module decides which keys of which
queries (and which speed variants) a lookup gets.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from pipelines.audio.peaks import FRAME_S
from pipelines.matching.landmarks import (
    QUERY_TRIPLET_FAN,
    SPEED_TRIPLET_FAN,
    pair_hashes,
    scaled_triplet_keys,
    speed_factors,
    triplet_keys,
)
from pipelines.matching.types import Query

# Speed corrections tried when a query matched nothing as posted: common "sped up" / "slowed" presets.
SPEED_FACTORS = (0.75, 0.8, 0.9, 1.1, 1.15, 1.2, 1.25, 1.33, 1.5)
SPEED_MODES = ("pitch", "tempo", "key")  # resampled; time-stretched; pitch-shifted at the original tempo
# Each factor catches about +-3 % around it. Resampled copies ("slowed", "nightcore", any speed slider) come at
# any factor, so their presets leave no gap from 0.7 to 1.5; a pitch shift at the original tempo comes in
# semitones (+-1-7: 2^(k/12)), whose +-3 % cover 0.73-1.54 without a gap. Time-stretched copies between the
# presets are found by the measured speed factors (speed_estimate.py: the pitch is exact there).
MODE_FACTORS = {
    "pitch": (0.71, 0.75, 0.8, 0.85, 0.9, 0.95, 1.05, 1.1, 1.15, 1.2, 1.25, 1.33, 1.41, 1.5),
    "tempo": SPEED_FACTORS,
    "key": tuple(round(2 ** (k / 12), 4) for k in (-5, -4, -3, -2, -1, 1, 2, 3, 4, 5, 6, 7)),
}
SPEED_VARIANTS = [(f, m) for m in SPEED_MODES for f in MODE_FACTORS[m]]
SPEED_WINDOW_FRAMES = int(12.0 / FRAME_S)  # speed variants vote with the first 12 s of a query only


def q_items(queries: list[Query]) -> pl.DataFrame | None:
    """`q_items(qid, key, pos)`: the 24-bit Chromaprint keys of the queries that have items (None: none has)."""
    with_items = [q for q in queries if q.fingerprint.size]
    if not with_items:
        return None
    return pl.DataFrame(
        {
            "qid": np.repeat(np.array([q.qid for q in with_items], np.int32), [q.fingerprint.size for q in with_items]),
            "key": np.concatenate([q.fingerprint >> 8 for q in with_items]).astype(np.uint32),
            "pos": np.concatenate([np.arange(q.fingerprint.size, dtype=np.int32) for q in with_items]),
        }
    )


def q_marks(queries: list[Query], chunk: list[Query],
            speeds: list[tuple[float, str]] | None = None) -> pl.DataFrame | None:
    """`q_marks(qid, variant, hash, t)`: the chunk's landmark pairs as posted (variant 0: the queries themselves,
    and every chunk query as a reference), plus, with `speeds`, the queries' first SPEED_WINDOW_FRAMES mapped back
    by each speed preset (variants numbered from 1). None when there is no pair at all."""
    qids, vars_, hs, ts = [], [], [], []

    def put(qid: int, variant: int, h: np.ndarray, t: np.ndarray) -> None:
        qids.append(np.full(h.size, qid, np.int32))
        vars_.append(np.full(h.size, variant, np.int16))
        hs.append(h)
        ts.append(t)

    for q in chunk:  # references from the chunk (variant 0 = as posted)
        put(q.qid, 0, *q.marks)
    if speeds is not None:  # speed variants of the queries, numbered from 1
        for q in queries:
            for v, (h, t) in enumerate(_speed_marks(q, speeds), start=1):
                put(q.qid, v, h, t)
    if not hs or not sum(h.size for h in hs):
        return None
    return pl.DataFrame({"qid": np.concatenate(qids), "variant": np.concatenate(vars_),
                         "hash": np.concatenate(hs).astype(np.uint32), "t": np.concatenate(ts).astype(np.int32)})


def q_triplets(queries: list[Query], speeds: list[tuple[float, str]] | None = None) -> pl.DataFrame | None:
    """`q_triplets(qid, variant, key, t)`: the queries' triplet keys as posted (variant 0), or (with `speeds`)
    mapped back by each speed preset over the first SPEED_WINDOW_FRAMES, variants numbered from 1 as in
    `q_marks`. None without queries."""
    qids, variants, keys, frames = [], [], [], []
    for q in queries:
        if speeds is None:
            k, t = triplet_keys(q.peak_frames, q.peak_bins, QUERY_TRIPLET_FAN)
            v = np.zeros(k.size, np.int16)
        else:  # variants numbered from 1, as in q_marks
            k, t, v = _speed_triplets(q, speeds)
        qids.append(np.full(k.size, q.qid, np.int32))
        variants.append(v)
        keys.append(k)
        frames.append(t)
    if not qids:
        return None
    return pl.DataFrame(
        {"qid": np.concatenate(qids), "variant": np.concatenate(variants), "key": np.concatenate(keys),
         "t": np.concatenate(frames)},
        schema={"qid": pl.Int32, "variant": pl.Int16, "key": pl.UInt64, "t": pl.Int32})


def _speed_marks(q: Query, speeds: list[tuple[float, str]]) -> list[tuple[np.ndarray, np.ndarray]]:
    """The pair hashes of `q`'s first SPEED_WINDOW_FRAMES mapped back by each of `speeds`, computed once per file
    (Query.keyed: the end-of-day merge pass queries the day's files again)."""
    memo = ("marks", tuple(speeds))
    if memo not in q.keyed:
        head = q.peak_frames < SPEED_WINDOW_FRAMES
        q.keyed[memo] = [pair_hashes(q.peak_frames[head], q.peak_bins[head], speed, mode) for speed, mode in speeds]
    return q.keyed[memo]


def _speed_triplets(q: Query, speeds: list[tuple[float, str]]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(key, anchor frame, variant from 1) of `q`'s triplet keys at each of `speeds`, computed once per file."""
    memo = ("triplets", tuple(speeds))
    if memo not in q.keyed:
        head = q.peak_frames < SPEED_WINDOW_FRAMES
        k, t, preset = scaled_triplet_keys(q.peak_frames[head], q.peak_bins[head],
                                           [speed_factors(speed, mode) for speed, mode in speeds], SPEED_TRIPLET_FAN)
        q.keyed[memo] = (k, t, (preset + 1).astype(np.int16))
    return q.keyed[memo]
