"""Offset voting's parameters and, in numpy, the verification of what the votes found (pure).

The votes themselves are counted in DuckDB (sql/match_sounds/candidates_*.sql, run by pipelines/matching/store.py
with the parameters below); here each candidate alignment the store returned becomes verified `Match`es: BER
spans along a Chromaprint alignment (pipelines/matching/verify.py), stretches of aligned landmarks.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from pipelines.audio.peaks import FRAME_S
from pipelines.matching import verify
from pipelines.matching.landmarks import pair_hashes, speed_factors
from pipelines.matching.types import Match, Query

# Chromaprint voting (stack notes: 24-bit keys, best offsets, ~20 candidates, then BER)
MIN_CP_VOTES = 2
CP_OFFSETS_PER_REF = 2
CP_TOP_K = 20
# candidates per query: at most this many indexed audios of one sound (its own audio and its indexed copies)
REFS_PER_SOUND = 2
# Landmarks: unrelated real music aligns <= 6 landmarks at its best offset (measured, docs/matching.md)
MIN_LM_VOTES = 20
MIN_LM_VOTES_SPEED = 25  # 18 speed variants per query multiply the chances of a chance alignment
LM_TOP_K = 10
# Weak alignments (a voice louder than the music), only for files nothing else explains: seeds for the peak-presence
# test, never matches by themselves (presence.confirmed_match decides)
MIN_LM_VOTES_WEAK = 10
LM_MIN_RATIO_WEAK = 3.0
LM_TOP_K_WEAK = 4
LM_GAP_FRAMES = 172  # ~4 s without aligned landmarks ends a stretch
LM_MIN_STRETCH = 4  # fewer aligned landmarks in a stretch: a stray, not a part of the match
LM_MIN_RATIO = 2.0  # best alignment >= this x the pair's best other alignment (chance level for the pair)
LM_MIN_RATIO_SPEED = 1.2  # a preset a few % off the real speed smears the votes over neighbouring offsets
LM_PAIR_S = 0.35  # audio a landmark pair spans after its anchor, on average
LM_MIN_DISTINCT = 0.5  # distinct hashes / aligned landmarks; a loop repeats the same few
LM_MIN_BINS = 5  # distinct anchor frequencies and frequency steps among them; a tone or a beat has a few
# Landmark candidates (triplet lookup): which indexed audios the pair-hash voting compares a chunk with
TRIPLET_MIN_VOTES = 2  # aligned triplets at one offset (+-1 frame): chance alignments of 34-bit keys are rare
TRIPLET_TOP_REFS = 32  # best audios per query by aligned triplets (free alignment), at least LM_TOP_K
TRIPLET_TOP_HEAD_REFS = 16  # best audios per query aligned near offset 0 in the first seconds (stitch parents)
TRIPLET_TOL = 1  # frames: votes at neighbouring offsets count together
TRIPLET_TOL_SPEED = 8  # a preset a few % off the real speed spreads the alignment over ~a dozen offsets
# Stitch hypothesis (query start = reference start): offset fixed, so few aligned landmarks suffice
STITCH_HEAD_S = 6.0
STITCH_MIN_VOTES = 5
STITCH_MAX_OFF = 2


def chromaprint_matches(queries: list[Query], cands: pl.DataFrame,
                        ref_fps: dict[int, np.ndarray]) -> list[Match]:
    """BER spans along each candidate alignment `cands(qid, ref, off)`; `ref_fps` holds the indexed references'
    fingerprints, the chunk's own queries are references -1 - qid."""
    by_qid = {q.qid: q for q in queries}
    out: list[Match] = []
    for qid, ref, off in cands.select("qid", "ref", "off").iter_rows():
        query = by_qid[qid].fingerprint
        ref_fp = ref_fps.get(ref) if ref >= 0 else by_qid[-1 - ref].fingerprint
        if ref_fp is None:
            continue
        for span in verify.spans(query, ref_fp, off):
            ps, pe = verify.item_span_seconds(span.q_start, span.q_end)
            rs, re_ = verify.item_span_seconds(span.q_start + off, span.q_end + off)
            out.append(Match(qid, ref, ps, pe, rs, re_, 1.0, 1.0, span.score, "chromaprint"))
    return out


def stitch_head_matches(queries: list[Query], chunk: list[Query], heads: pl.DataFrame) -> list[Match]:
    """The stitch hypothesis' candidates `heads(qid, ref, qts, hashes)` (landmarks aligned at offset ~0 in the
    first seconds) that start at the very start of one of `queries`, as spans."""
    wanted = {q.qid for q in queries}
    by_qid_all = {q.qid: q for q in chunk}
    out: list[Match] = []
    for qid, ref, qts, hashes in heads.select("qid", "ref", "qts", "hashes").iter_rows():
        if qid in wanted and qts[0] * FRAME_S < 1.0:  # aligned from the very start of the post
            out += landmark_spans(by_qid_all[qid], ref, 0, 1.0, "landmarks", np.asarray(qts, dtype=np.int64),
                                  np.asarray(hashes, np.uint32), STITCH_MIN_VOTES, pitch=1.0)
    return out


def for_queries(cands: pl.DataFrame, queries: list[Query], speed: bool = False) -> pl.DataFrame:
    """The landmark candidates of `queries` (the chunk's other queries only served as references); of speed
    variants only (variant > 0) with `speed`."""
    wanted = pl.col("qid").is_in(list({q.qid for q in queries}))
    return cands.filter(wanted & (pl.col("variant") > 0) if speed else wanted)


def landmark_matches(chunk: list[Query], cands: pl.DataFrame, min_votes: int = MIN_LM_VOTES) -> list[Match]:
    """As-posted landmark candidates `cands(qid, ref, off, qts, hashes)` (of chunk queries) as spans of at least
    `min_votes` aligned landmarks."""
    by_qid = {q.qid: q for q in chunk}
    out: list[Match] = []
    for qid, ref, off, qts, hashes in cands.select("qid", "ref", "off", "qts", "hashes").iter_rows():
        out += landmark_spans(by_qid[qid], ref, off, 1.0, "landmarks", np.asarray(qts, dtype=np.int64),
                              np.asarray(hashes, dtype=np.uint32), min_votes, pitch=1.0)
    return out


def speed_matches(chunk: list[Query], cands: pl.DataFrame, speeds: list[tuple[float, str]],
                  ref_marks: dict[int, tuple[np.ndarray, np.ndarray]]) -> list[Match]:
    """Speed candidates `cands(qid, variant, ref, off)` (variant v = speeds[v - 1]) were voted on a window of
    each query: the whole query, mapped back by its preset, is aligned at the found offset against the
    reference's pairs (`ref_marks` for indexed audio, the chunk's queries for -1 - qid) and becomes spans."""
    by_qid = {q.qid: q for q in chunk}
    out: list[Match] = []
    for qid, variant, ref, off in cands.select("qid", "variant", "ref", "off").iter_rows():
        speed, mode = speeds[variant - 1]
        query = by_qid[qid]
        ref_hr = ref_marks.get(ref) if ref >= 0 else by_qid[-1 - ref].marks
        if ref_hr is None:  # indexed audio without stored peaks (fingerprinted before peaks existed)
            continue
        rh, rt = ref_hr
        qh, qt = pair_hashes(query.peak_frames, query.peak_bins, speed, mode)
        hit = aligned(qh, qt, rh, rt, off)
        time_speed, pitch = speed_factors(speed, mode)  # a key shift keeps the time axis, a stretch the pitch
        out += landmark_spans(query, ref, off, time_speed, f"landmarks_speed_{mode}", qt[hit].astype(np.int64),
                              qh[hit], MIN_LM_VOTES_SPEED, pitch=pitch)
    return out


def aligned(qh: np.ndarray, qt: np.ndarray, rh: np.ndarray, rt: np.ndarray, off: int) -> np.ndarray:
    """Mask of query landmarks with a reference landmark of the same hash at query time + off (+-1 frame)."""
    ref_keys = (rh.astype(np.int64) << 32) | (rt.astype(np.int64) & 0xFFFFFFFF)
    hit = np.zeros(qh.size, dtype=bool)
    for d in (-1, 0, 1):
        keys = (qh.astype(np.int64) << 32) | ((qt.astype(np.int64) + off + d) & 0xFFFFFFFF)
        hit |= np.isin(keys, ref_keys)
    return hit


def landmark_spans(query: Query, ref: int, off: int, speed: float, method: str, qt: np.ndarray, hs: np.ndarray,
                   min_votes: int, *, pitch: float) -> list[Match]:
    """Aligned landmarks (query anchor times `qt` on the reference's time scale) become a span when there are
    `min_votes` of them with diverse hashes. `speed` and `pitch` are the factors the query was mapped back by
    (time: reference frames per query frame; pitch: query bin / reference bin), carried on the match."""
    n_all = qt.size
    if n_all < min_votes or np.unique(hs).size < LM_MIN_DISTINCT * n_all:
        return []
    # generic audio (a tone, a drum hit repeated) aligns on a few frequencies only
    if np.unique(hs >> 13).size < LM_MIN_BINS or np.unique((hs >> 6) & 127).size < LM_MIN_BINS:
        return []
    # stretches: aligned landmarks closer than LM_GAP_FRAMES belong together; a stretch of fewer than
    # LM_MIN_STRETCH is a stray chance alignment (e.g. in a stitch's reply) and must not extend the span, while
    # real stretches of one alignment are one span (under a loud voice the music's landmarks survive in
    # patches, and the music plays on between them)
    qt = np.sort(qt)
    cuts = np.flatnonzero(np.diff(qt) > LM_GAP_FRAMES) + 1
    out: list[Match] = []
    qh_t = query.marks[1]
    kept = [p for p in np.split(qt, cuts) if p.size >= min(LM_MIN_STRETCH, min_votes)]
    if kept:  # one alignment, one span: the hull of its real stretches
        part_t = np.concatenate(kept)
        n = part_t.size
        t0, t1 = int(part_t[0]), int(part_t[-1])
        ps = t0 / speed * FRAME_S
        pe = min(query.duration_s, t1 / speed * FRAME_S + LM_PAIR_S)
        rs = (t0 + off) * FRAME_S
        re_ = (t1 + off) * FRAME_S + LM_PAIR_S
        # share of the post's own landmarks inside the stretch that aligned (a re-encode ~0.3-0.6, under a
        # 0 dB voice ~0.02-0.2, chance ~0); speed-corrected hashes can exceed one per landmark, hence the cap
        inside = int(np.count_nonzero((qh_t >= t0 / speed) & (qh_t <= t1 / speed))) or 1
        out.append(Match(query.qid, ref, ps, pe, rs, re_, speed, pitch, min(1.0, n / inside), method))
    return out
