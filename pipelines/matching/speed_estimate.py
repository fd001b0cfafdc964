"""Speed changes whose time and pitch factors differ, found without trying every combination (pure).

The preset speeds (analyse.SPEED_FACTORS x SPEED_MODES) cover one change at a time: resampled (time and pitch
by the same factor), time-stretched or key-shifted. A copy that went through two of them (sped up x1.25 by
resampling, then time-stretched x1.2) plays at time factor 1.5 and pitch factor 1.25, which no preset maps
back. Here the pitch factor is tried from a short list (PITCH_FACTORS, 1.0 = tempo only) while the time
factor is measured: a query pair and an indexed pair with the same anchor bin and bin step (after the pitch
correction) give it as the ratio of their time steps. Votes on (reference, time factor, offset) in DuckDB
(sql/match_sounds/candidates_speed_estimate.sql, run by store.speed_estimate_candidates over `q_pairs`) give
candidates; each is then refined in numpy (time factor in 0.5 % steps around its cell, on the query's first
seconds) and verified along the whole query with the same landmark rules as the presets (vote.landmark_spans).
Runs only for queries nothing else explained (engine.speed_estimated_matches).
"""

from __future__ import annotations

import numpy as np
import polars as pl

from pipelines.audio.peaks import FRAME_S
from pipelines.matching.analyse import SPEED_FACTORS, SPEED_WINDOW_FRAMES
from pipelines.matching.landmarks import raw_pairs, scaled_pair_hashes
from pipelines.matching.pair_table import PairTable
from pipelines.matching.types import Match, Query
from pipelines.matching.vote import LM_MIN_RATIO, MIN_LM_VOTES_SPEED, aligned, landmark_spans

PITCH_FACTORS = (1.0, *SPEED_FACTORS)  # 1.0: the pitch was kept, only the time factor is unknown
TIME_FACTOR_RANGE = (0.5, 2.5)  # two presets chained reach 0.56-2.25
TIME_STEP = 1.03  # time factor cells of 3 %
OFF_FRAMES = 24  # offset cells (~0.56 s): a 3 % factor error moves a 12 s query's anchors by ~0.4 s
MIN_DT = 8  # frame steps shorter than this measure the time factor too coarsely (+-6 % at 8)
MIN_CELL_VOTES = 3  # a cell with fewer is chance and does not count towards its neighbours
MIN_VOTES = 12  # a candidate's cell and its neighbours
TOP_K = 4  # candidates per query
CELLS_PER_REF = 2  # of them at most this many pitch factors of one reference
# time factors tried around a cell's: its neighbours too (+-5 % in 1 % steps), then +-0.75 % in 0.25 % steps
COARSE_STEPS = tuple(1.0 + 0.01 * k for k in range(-5, 6))
FINE_STEPS = tuple(1.0 + 0.0025 * k for k in range(-3, 4))
METHOD = "landmarks_speed_estimated"


def q_pairs(queries: list[Query]) -> pl.DataFrame:
    """`q_pairs(qid, variant, prefix, dt, t)`: pairs of each query's first SPEED_WINDOW_FRAMES at every pitch
    factor (variant = index into PITCH_FACTORS)."""
    parts = []
    for q in queries:
        head = q.peak_frames < SPEED_WINDOW_FRAMES
        for v, pitch in enumerate(PITCH_FACTORS):
            f1, d_f, d_t, t1 = raw_pairs(q.peak_frames[head], q.peak_bins[head], 1.0, pitch)
            keep = d_t >= MIN_DT
            f1, d_f, d_t, t1 = f1[keep], d_f[keep], d_t[keep], t1[keep]
            for fo in ((np.rint(f1),) if pitch == 1.0 else (np.floor(f1), np.ceil(f1))):
                for do in ((np.rint(d_f),) if pitch == 1.0 else (np.floor(d_f), np.ceil(d_f))):
                    ok = (np.abs(f1 - fo) < 0.75) & (np.abs(d_f - do) < 0.75) & (fo >= 0) & (fo < 256)
                    ok &= np.abs(do) <= 63
                    parts.append(pl.DataFrame({
                        "qid": np.full(int(ok.sum()), q.qid, np.int32),
                        "variant": np.full(int(ok.sum()), v, np.int16),
                        "prefix": (fo[ok].astype(np.uint32) << 7) | (do[ok] + 64).astype(np.uint32),
                        "dt": d_t[ok].astype(np.int16),
                        "t": t1[ok].astype(np.int32),
                    }))
    if not parts:
        return pl.DataFrame(schema={"qid": pl.Int32, "variant": pl.Int16, "prefix": pl.UInt32, "dt": pl.Int16,
                                    "t": pl.Int32})
    return pl.concat(parts).unique()


def offset_votes(qh: np.ndarray, qt: np.ndarray, rh: np.ndarray, rt: np.ndarray) -> tuple[int, int, int]:
    """(best offset, its votes over +-1 frame, the best votes more than 3 frames away from it) of the hash
    matches between a query and a reference."""
    return sorted_offset_votes(qh, qt, _sorted_ref(rh, rt))


def sorted_offset_votes(qh: np.ndarray, qt: np.ndarray, ref: tuple[np.ndarray, np.ndarray]) -> tuple[int, int, int]:
    """offset_votes against a reference sorted by hash once (_sorted_ref): a query is scored against the same
    reference at many factors, and sorting it each time cost more than the votes."""
    rh_s, rt_s = ref
    lo = np.searchsorted(rh_s, qh, "left")
    n = np.searchsorted(rh_s, qh, "right") - lo
    total = int(n.sum())
    if total == 0:
        return 0, 0, 0
    first = np.repeat(lo - (np.cumsum(n) - n), n) + np.arange(total)
    offs = rt_s[first] - np.repeat(qt.astype(np.int64), n)
    base = int(offs.min()) - 1
    counts = np.bincount(offs - base, minlength=int(offs.max() - base) + 2)
    votes3 = np.convolve(counts, np.ones(3, np.int64), mode="same")
    best = int(np.argmax(votes3))
    far = votes3.copy()
    far[max(0, best - 3):best + 4] = 0
    return best + base, int(votes3[best]), int(far.max())


def verified(queries: list[Query], cands: pl.DataFrame,
             ref_marks: dict[int, tuple[np.ndarray, np.ndarray]]) -> list[Match]:
    """Verified matches of `queries` at estimated (time, pitch) factors: each candidate cell `cands(qid, variant,
    ref, abin)` refined and aligned against the indexed reference's pairs (`ref_marks`). The time factor is refined
    twice: at the cell's pitch factor, and (once per query, reference and time cell) with the pitch tied to it,
    a resampled copy ("slowed", "nightcore", a speed slider) at a factor no preset or listed pitch is within ~1 %
    of: the cell voting measures its time factor well but at a listed pitch factor a few % off, where the
    verification fails (docs/matching.md, "Edits users make")."""
    by_qid = {q.qid: q for q in queries}
    out: list[Match] = []
    tied_done: set[tuple[int, int, int]] = set()
    sorted_refs: dict[int, tuple[np.ndarray, np.ndarray]] = {}
    head_keys: dict[tuple[float, float], tuple[np.ndarray, np.ndarray]] = {}  # the current query's, by factors
    keys_of = None
    for qid, variant, ref, abin in cands.select("qid", "variant", "ref", "abin").iter_rows():
        if ref not in ref_marks:
            continue
        if keys_of != qid:  # candidates come by query: its cells share factors (several references, one cell)
            head_keys.clear()
            keys_of = qid
        query, pitch = by_qid[qid], PITCH_FACTORS[variant]
        rh, rt = ref_marks[ref]
        if ref not in sorted_refs:
            sorted_refs[ref] = _sorted_ref(rh, rt)
        ref_s = sorted_refs[ref]
        head = query.peak_frames < SPEED_WINDOW_FRAMES
        hypotheses = [(_refined(query, head, ref_s, TIME_STEP ** abin, pitch, head_keys), pitch)]
        if (qid, ref, abin) not in tied_done:
            tied_done.add((qid, ref, abin))
            hypotheses.append((_refined(query, head, ref_s, TIME_STEP ** abin, None, head_keys), None))
        for (votes, time_factor), fixed in hypotheses:
            if votes < MIN_LM_VOTES_SPEED // 2:
                continue
            p = time_factor if fixed is None else fixed
            qh, qt = scaled_pair_hashes(query.peak_frames, query.peak_bins, time_factor, p)
            off, votes, other = sorted_offset_votes(qh, qt, ref_s)
            if votes < MIN_LM_VOTES_SPEED or votes < LM_MIN_RATIO * other:  # the factor is exact now: no smearing
                continue
            hit = aligned(qh, qt, rh, rt, off)
            out += landmark_spans(query, ref, off, round(time_factor, 4), METHOD, qt[hit].astype(np.int64),
                                  qh[hit], MIN_LM_VOTES_SPEED, pitch=round(p, 4))
    return out


def _refined(query: Query, head: np.ndarray, ref: tuple[np.ndarray, np.ndarray], start: float,
             pitch: float | None, keys: dict[tuple[float, float], tuple[np.ndarray, np.ndarray]]) -> tuple[int, float]:
    """(votes, time factor) of the best time factor around `start` (COARSE_STEPS, then FINE_STEPS around the best)
    on the query's head against `ref` (_sorted_ref), at pitch factor `pitch` (None: the pitch follows the time
    factor, a resampled copy). `keys` caches the head's pair hashes by (time, pitch) factor for this query."""
    best = (0, start)
    for steps in (COARSE_STEPS, FINE_STEPS):
        around = best[1]
        for step in steps:
            tf = around * step
            factors = (tf, tf if pitch is None else pitch)
            if factors not in keys:
                keys[factors] = scaled_pair_hashes(query.peak_frames[head], query.peak_bins[head], *factors)
            qh, qt = keys[factors]
            best = max(best, (sorted_offset_votes(qh, qt, ref)[1], tf))
    return best


# Resampled copies at any factor ("slowed", "nightcore", a speed slider): time and pitch change together, so one
# factor maps the copy back exactly; 1 % off, the aligned landmarks of a 12 s head collapse towards chance (the
# real-music bench: 156 aligned at the exact factor of a 0.807 copy, 25 at the 0.8 preset), because the offset
# drifts by ~5 frames over the head. For files still unexplained whose presets named audios, the factor is scanned
# over the whole range on the first 6 s with votes counted within +-RESAMPLED_TOL frames (drift-tolerant, so steps
# of 1.5 % do), then refined on 12 s at +-1 frame around the best factor of each audio, and verified on the whole
# file like the presets (as landmarks_speed_pitch: it is a resampled copy at a measured factor).
RESAMPLED_RANGE = (0.7, 1.5)
RESAMPLED_STEP = 1.015
RESAMPLED_SCAN_FRAMES = int(6.0 / FRAME_S)
RESAMPLED_TOL = 4
RESAMPLED_FINE = tuple(1.0 + 0.0025 * k for k in range(-4, 5))
RESAMPLED_METHOD = "landmarks_speed_pitch"


def resampled_matches(queries: list[Query], named: pl.DataFrame,
                      ref_marks: dict[int, tuple[np.ndarray, np.ndarray]]) -> list[Match]:
    """Verified matches of `queries` at a scanned resampling factor against the indexed audios `named(qid, ref)`
    names for each (their pairs in `ref_marks`)."""
    n = int(np.floor(np.log(RESAMPLED_RANGE[1] / RESAMPLED_RANGE[0]) / np.log(RESAMPLED_STEP))) + 1
    factors = RESAMPLED_RANGE[0] * RESAMPLED_STEP ** np.arange(n)
    sorted_refs = {r: _sorted_ref(*m) for r, m in ref_marks.items()}
    out: list[Match] = []
    for q in queries:
        refs = list(dict.fromkeys(r for r in named.filter(pl.col("qid") == q.qid)["ref"].to_list()
                                  if r in sorted_refs))
        if not refs:
            continue
        scan = q.peak_frames < RESAMPLED_SCAN_FRAMES
        head = q.peak_frames < SPEED_WINDOW_FRAMES
        # the scan: every named audio at once per factor; the first factor with the most votes per audio, in the
        # order the audios first got a vote (then as named)
        table = PairTable.of([sorted_refs[r] for r in refs])
        best_votes = np.zeros(len(refs), np.int64)
        best_f = np.zeros(len(refs))
        first_voted = np.full(len(refs), factors.size)
        for i, f in enumerate(factors):
            qh, qt = scaled_pair_hashes(q.peak_frames[scan], q.peak_bins[scan], f, f)
            votes = table.best_votes(qh, qt, RESAMPLED_TOL)
            better = votes > best_votes
            best_votes[better], best_f[better] = votes[better], float(f)
            first_voted[(votes > 0) & (first_voted == factors.size)] = i
        for j in sorted(np.flatnonzero(best_votes > 0).tolist(), key=lambda j: (int(first_voted[j]), j)):
            r, votes, f = refs[j], int(best_votes[j]), float(best_f[j])
            if votes < MIN_LM_VOTES_SPEED // 2:
                continue
            rh, rt = ref_marks[r]
            f = max((_votes(*scaled_pair_hashes(q.peak_frames[head], q.peak_bins[head], f * s, f * s),
                            sorted_refs[r], 1), f * s) for s in RESAMPLED_FINE)[1]
            qh, qt = scaled_pair_hashes(q.peak_frames, q.peak_bins, f, f)
            off, votes, other = sorted_offset_votes(qh, qt, sorted_refs[r])
            if votes < MIN_LM_VOTES_SPEED or votes < LM_MIN_RATIO * other:
                continue
            hit = aligned(qh, qt, rh, rt, off)
            out += landmark_spans(q, r, off, round(f, 4), RESAMPLED_METHOD, qt[hit].astype(np.int64), qh[hit],
                                  MIN_LM_VOTES_SPEED, pitch=round(f, 4))
    return out


def _sorted_ref(rh: np.ndarray, rt: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    order = np.argsort(rh, kind="stable")
    return rh[order], rt[order].astype(np.int64)


def _votes(qh: np.ndarray, qt: np.ndarray, ref: tuple[np.ndarray, np.ndarray], tol: int) -> int:
    """Votes of the best offset (+-`tol` frames) between query pairs and a reference sorted by hash (_sorted_ref)."""
    rh_s, rt_s = ref
    lo = np.searchsorted(rh_s, qh, "left")
    k = np.searchsorted(rh_s, qh, "right") - lo
    total = int(k.sum())
    if total == 0:
        return 0
    first = np.repeat(lo - (np.cumsum(k) - k), k) + np.arange(total)
    offs = rt_s[first] - np.repeat(qt.astype(np.int64), k)
    counts = np.bincount(offs - offs.min() + tol, minlength=int(offs.max() - offs.min()) + 2 * tol + 1)
    return int(np.convolve(counts, np.ones(2 * tol + 1, np.int64), mode="same").max())
