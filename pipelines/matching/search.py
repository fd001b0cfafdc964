"""Candidates by offset voting in DuckDB (join + group by), then verification in numpy, for one chunk of
queries at a time: every verified stretch becomes a `Match` (which part of the post matches which part of
which reference, at what speed, how well).

References are indexed audio (ref = match_audio.audio_id >= 0) and the chunk's earlier queries
(ref = -1 - qid), so a post can match a sound first posted minutes earlier the same day.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb
import numpy as np
import polars as pl

from pipelines import warehouse
from pipelines.audio.decode import DecodeError, decode_pcm
from pipelines.audio.peaks import FRAME_S
from pipelines.matching import index, presence, verify
from pipelines.matching.landmarks import (
    QUERY_TRIPLET_FAN,
    SPEED_TRIPLET_FAN,
    pair_hashes,
    scaled_triplet_keys,
    speed_factors,
    triplet_keys,
)

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
# Speed corrections tried when a query matched nothing as posted: common "sped up" / "slowed" presets.
SPEED_FACTORS = (0.75, 0.8, 0.9, 1.1, 1.15, 1.2, 1.25, 1.33, 1.5)
SPEED_MODES = ("pitch", "tempo", "key")  # resampled; time-stretched; pitch-shifted at the original tempo
SPEED_WINDOW_FRAMES = int(12.0 / FRAME_S)  # speed variants vote with the first 12 s of a query only
PRESENCE_TRIES = 32  # landmark alignments per unexplained query given the peak-presence test: all of them in
# practice (related sounds often share an intro, so the true parent's stretch may be the shortest)


@dataclass(slots=True)
class Query:
    qid: int
    audio_sha256: str
    duration_s: float
    fingerprint: np.ndarray  # uint32 Chromaprint items
    peak_frames: np.ndarray
    peak_bins: np.ndarray
    _marks: tuple[np.ndarray, np.ndarray] | None = None
    media: Path | None = None  # the media file, decoded again only for the peak-presence test

    @property
    def marks(self) -> tuple[np.ndarray, np.ndarray]:
        if self._marks is None:
            self._marks = pair_hashes(self.peak_frames, self.peak_bins)
        return self._marks


@dataclass(frozen=True, slots=True)
class Match:
    """Post part [post_start_s, post_end_s] plays reference part [ref_start_s, ref_end_s] at `speed`."""

    qid: int
    ref: int
    post_start_s: float
    post_end_s: float
    ref_start_s: float
    ref_end_s: float
    speed: float
    score: float
    method: str  # chromaprint | landmarks | landmarks_speed_pitch / _tempo / _key | landmarks_presence


def chromaprint_matches(con: duckdb.DuckDBPyConnection, queries: list[Query], chunk_refs: bool = True) -> list[Match]:
    """Offset voting on 24-bit item keys, then BER spans along each candidate alignment (against the index and,
    if `chunk_refs`, the chunk's earlier queries)."""
    with_items = [q for q in queries if q.fingerprint.size]
    if not with_items:
        return []
    q_items = pl.DataFrame(
        {
            "qid": np.repeat(np.array([q.qid for q in with_items], np.int32), [q.fingerprint.size for q in with_items]),
            "key": np.concatenate([q.fingerprint >> 8 for q in with_items]).astype(np.uint32),
            "pos": np.concatenate([np.arange(q.fingerprint.size, dtype=np.int32) for q in with_items]),
        }
    )
    con.register("q_items", q_items)
    try:
        with index.lookup(con):
            cands = con.sql(
                warehouse.sql_text("match_sounds/candidates_chromaprint"),
                params={"min_votes": MIN_CP_VOTES, "offsets_per_ref": CP_OFFSETS_PER_REF, "top_k": CP_TOP_K,
                        "refs_per_sound": REFS_PER_SOUND, "chunk_refs": chunk_refs},
            ).pl()
    finally:
        con.unregister("q_items")
    if cands.is_empty():
        return []
    by_qid = {q.qid: q for q in queries}
    ref_fps = _indexed_fingerprints(con, sorted({r for r in cands["ref"].to_list() if r >= 0}))
    out: list[Match] = []
    for qid, ref, off in cands.select("qid", "ref", "off").iter_rows():
        query = by_qid[qid].fingerprint
        ref_fp = ref_fps.get(ref) if ref >= 0 else by_qid[-1 - ref].fingerprint
        if ref_fp is None:
            continue
        for span in verify.spans(query, ref_fp, off):
            ps, pe = verify.item_span_seconds(span.q_start, span.q_end)
            rs, re_ = verify.item_span_seconds(span.q_start + off, span.q_end + off)
            out.append(Match(qid, ref, ps, pe, rs, re_, 1.0, span.score, "chromaprint"))
    return out


def _want_refs(audio_ids: list[int]) -> dict[str, pl.DataFrame]:
    """The `want_refs(audio_id)` view the reference-loading queries read."""
    return {"want_refs": pl.DataFrame({"audio_id": audio_ids}, schema={"audio_id": pl.Int32})}


def _indexed_fingerprints(con: duckdb.DuckDBPyConnection, audio_ids: list[int]) -> dict[int, np.ndarray]:
    if not audio_ids:
        return {}
    rows = warehouse.fetch_rows(con, "match_sounds/ref_fingerprints", frames=_want_refs(audio_ids))
    return {int(a): np.asarray(fp, dtype=np.uint32) for a, fp in rows}


def landmark_matches(con: duckdb.DuckDBPyConnection, queries: list[Query], chunk: list[Query],
                     speeds: list[tuple[float, str]] | None = None, chunk_refs: bool = True) -> list[Match]:
    """Offset voting on landmark hashes of `queries` (as posted, or at each of `speeds`), then clusters of
    aligned landmarks become spans. `chunk` supplies the earlier same-chunk queries as references (unless
    `chunk_refs` is false: the index only)."""
    variants = [(1.0, "pitch")] if speeds is None else speeds
    qids, vars_, hs, ts = [], [], [], []

    def put(qid: int, variant: int, h: np.ndarray, t: np.ndarray) -> None:
        qids.append(np.full(h.size, qid, np.int32))
        vars_.append(np.full(h.size, variant, np.int16))
        hs.append(h)
        ts.append(t)

    for q in chunk:  # references from the chunk (variant 0 = as posted)
        put(q.qid, 0, *q.marks)
    wanted = {q.qid for q in queries}
    if speeds is not None:  # speed variants of the queries, numbered from 1
        for q in queries:
            for v, (speed, mode) in enumerate(variants, start=1):
                head = q.peak_frames < SPEED_WINDOW_FRAMES
                put(q.qid, v, *pair_hashes(q.peak_frames[head], q.peak_bins[head], speed, mode))
    if not hs or not sum(h.size for h in hs):
        return []
    q_marks = pl.DataFrame({"qid": np.concatenate(qids), "variant": np.concatenate(vars_),
                            "hash": np.concatenate(hs).astype(np.uint32), "t": np.concatenate(ts).astype(np.int32)})
    con.register("q_marks", q_marks)
    con.register("lm_index", _candidate_landmarks(con, queries, None if speeds is None else variants))
    stitch_head: list[Match] = []
    try:
        if speeds is None:
            heads = con.sql(
                warehouse.sql_text("match_sounds/candidates_stitch"),
                params={"head_frames": int(STITCH_HEAD_S / FRAME_S), "max_off": STITCH_MAX_OFF,
                        "min_votes": STITCH_MIN_VOTES, "chunk_refs": chunk_refs},
            ).pl()
            by_qid_all = {q.qid: q for q in chunk}
            for qid, ref, qts, hashes in heads.select("qid", "ref", "qts", "hashes").iter_rows():
                if qid in wanted and qts[0] * FRAME_S < 1.0:  # aligned from the very start of the post
                    stitch_head += landmark_spans(by_qid_all[qid], ref, 0, 1.0, "landmarks",
                                                   np.asarray(qts, dtype=np.int64), np.asarray(hashes, np.uint32),
                                                   STITCH_MIN_VOTES)
        cands = con.sql(
            warehouse.sql_text("match_sounds/candidates_landmarks"),
            params={"min_votes": MIN_LM_VOTES if speeds is None else MIN_LM_VOTES_SPEED, "top_k": LM_TOP_K,
                    "refs_per_sound": REFS_PER_SOUND,
                    "min_ratio": LM_MIN_RATIO if speeds is None else LM_MIN_RATIO_SPEED,
                    "min_variant": 0 if speeds is None else 1, "chunk_refs": chunk_refs},
        ).pl()
    finally:
        con.unregister("q_marks")
        con.unregister("lm_index")
    if cands.is_empty():
        return stitch_head
    if speeds is None:
        cands = cands.filter(pl.col("qid").is_in(list(wanted)))
    else:
        cands = cands.filter(pl.col("qid").is_in(list(wanted)) & (pl.col("variant") > 0))
    by_qid = {q.qid: q for q in chunk}
    out: list[Match] = []
    if speeds is None:
        for qid, ref, off, qts, hashes in cands.select("qid", "ref", "off", "qts", "hashes").iter_rows():
            out += landmark_spans(by_qid[qid], ref, off, 1.0, "landmarks", np.asarray(qts, dtype=np.int64),
                                   np.asarray(hashes, dtype=np.uint32), MIN_LM_VOTES)
        return out + stitch_head

    # speed candidates were voted on a window of each query: align the whole query at the found offset
    ref_marks = indexed_marks(con, sorted({r for r in cands["ref"].to_list() if r >= 0}))
    for qid, variant, ref, off in cands.select("qid", "variant", "ref", "off").iter_rows():
        speed, mode = variants[variant - 1]
        query = by_qid[qid]
        ref_hr = ref_marks.get(ref) if ref >= 0 else by_qid[-1 - ref].marks
        if ref_hr is None:  # indexed audio without stored peaks (fingerprinted before peaks existed)
            continue
        rh, rt = ref_hr
        qh, qt = pair_hashes(query.peak_frames, query.peak_bins, speed, mode)
        hit = aligned(qh, qt, rh, rt, off)
        time_speed = 1.0 if mode == "key" else speed  # a key shift keeps the time axis
        out += landmark_spans(query, ref, off, time_speed, f"landmarks_speed_{mode}", qt[hit].astype(np.int64),
                               qh[hit], MIN_LM_VOTES_SPEED)
    return out


def _candidate_landmarks(con: duckdb.DuckDBPyConnection, queries: list[Query],
                         speeds: list[tuple[float, str]] | None = None) -> pl.DataFrame:
    """`lm_index`: the pairs of the indexed audios that the queries' triplet keys point to, as posted or (with
    `speeds`) mapped back by each speed preset over the first SPEED_WINDOW_FRAMES, as their pair hashes are."""
    qids, variants, keys, frames = [], [], [], []
    for q in queries:
        if speeds is None:
            k, t = triplet_keys(q.peak_frames, q.peak_bins, QUERY_TRIPLET_FAN)
            v = np.zeros(k.size, np.int16)
        else:  # variants numbered from 1, as in q_marks
            head = q.peak_frames < SPEED_WINDOW_FRAMES
            k, t, preset = scaled_triplet_keys(q.peak_frames[head], q.peak_bins[head],
                                               [speed_factors(speed, mode) for speed, mode in speeds],
                                               SPEED_TRIPLET_FAN)
            v = (preset + 1).astype(np.int16)
        qids.append(np.full(k.size, q.qid, np.int32))
        variants.append(v)
        keys.append(k)
        frames.append(t)
    if not qids:
        return pl.DataFrame(schema={"hash": pl.UInt32, "audio_id": pl.Int32, "t": pl.Int32})
    return candidate_pairs(con, pl.DataFrame(
        {"qid": np.concatenate(qids), "variant": np.concatenate(variants), "key": np.concatenate(keys),
         "t": np.concatenate(frames)},
        schema={"qid": pl.Int32, "variant": pl.Int16, "key": pl.UInt64, "t": pl.Int32}),
        TRIPLET_TOL if speeds is None else TRIPLET_TOL_SPEED)


def candidate_pairs(con: duckdb.DuckDBPyConnection, q_triplets: pl.DataFrame, tol: int = TRIPLET_TOL) -> pl.DataFrame:
    """(hash, audio_id, t): the landmark pairs of the indexed audios that the triplet keys `q_triplets(qid,
    variant, key, t)` point to with aligned votes within +-`tol` frames (sql/match_sounds/candidates_triplets.sql).
    Reading the pairs of every indexed audio instead would cost in proportion to the index: a 21-bit pair hash
    has ~20 postings per 10k sounds."""
    with index.lookup(con, "match_sounds/lookup_landmarks_begin"):
        refs = [int(r) for (r,) in warehouse.fetch_rows(
            con, "match_sounds/candidates_triplets", frames={"q_triplets": q_triplets},
            params={"min_votes": TRIPLET_MIN_VOTES, "top_refs": TRIPLET_TOP_REFS, "tol": tol,
                    "top_head_refs": TRIPLET_TOP_HEAD_REFS, "head_frames": int(STITCH_HEAD_S / FRAME_S),
                    "max_off": STITCH_MAX_OFF})]
        con.register("want_refs", _want_refs(refs)["want_refs"])
        try:
            lists = con.sql(warehouse.sql_text("match_sounds/ref_landmarks")).pl()
        finally:
            con.unregister("want_refs")
    return (lists.explode(["hashes", "frames"])
            .select(pl.col("hashes").alias("hash"), "audio_id", pl.col("frames").alias("t"))
            .drop_nulls())


def aligned(qh: np.ndarray, qt: np.ndarray, rh: np.ndarray, rt: np.ndarray, off: int) -> np.ndarray:
    """Mask of query landmarks with a reference landmark of the same hash at query time + off (+-1 frame)."""
    ref_keys = (rh.astype(np.int64) << 32) | (rt.astype(np.int64) & 0xFFFFFFFF)
    hit = np.zeros(qh.size, dtype=bool)
    for d in (-1, 0, 1):
        keys = (qh.astype(np.int64) << 32) | ((qt.astype(np.int64) + off + d) & 0xFFFFFFFF)
        hit |= np.isin(keys, ref_keys)
    return hit


def _indexed_peaks(con: duckdb.DuckDBPyConnection, audio_ids: list[int]) -> dict[int, tuple[np.ndarray, np.ndarray]]:
    """Stored spectral peaks (frames, bins) of indexed audio."""
    if not audio_ids:
        return {}
    rows = warehouse.fetch_rows(con, "match_sounds/ref_peaks", frames=_want_refs(audio_ids))
    return {int(a): (np.asarray(f, np.int32), np.asarray(b, np.int32)) for a, f, b in rows}


def indexed_marks(con: duckdb.DuckDBPyConnection, audio_ids: list[int]) -> dict[int, tuple[np.ndarray, np.ndarray]]:
    """Landmark pairs (hash, anchor frame) of indexed audio, as stored in match_audio_landmarks."""
    if not audio_ids:
        return {}
    rows = warehouse.fetch_rows(con, "match_sounds/ref_landmarks", frames=_want_refs(audio_ids))
    return {int(a): (np.asarray(h, np.uint32), np.asarray(t, np.int32)) for a, h, t in rows}


def presence_matches(con: duckdb.DuckDBPyConnection, queries: list[Query], found: dict[int, list[Match]],
                     chunk: list[Query], methods: tuple[str, ...] = ("landmarks",),
                     maps: dict[int, np.ndarray] | None = None) -> list[Match]:
    """For queries nothing explains yet: each landmark alignment found by `methods` (as posted, or
    landmarks_speed_pitch / _tempo) grown over the windows where the reference's peaks are still present in the
    post (a sound under a voice as loud as it, docs/matching.md). The post's file is decoded again for this
    (Query.media), only for these queries and once per `maps` cache; a file that cannot be read here keeps its
    matches as they were."""
    maps = {} if maps is None else maps
    todo: list[tuple[Query, list[Match]]] = []
    for q in queries:
        alignments = [m for m in found[q.qid] if m.method in methods]
        if q.media is not None and alignments:
            todo.append((q, sorted(alignments, key=lambda m: m.post_start_s - m.post_end_s)[:PRESENCE_TRIES]))
    if not todo:
        return []
    stored = _indexed_peaks(con, sorted({m.ref for _, ms in todo for m in ms if m.ref >= 0}))
    by_qid = {q.qid: q for q in chunk}
    out: list[Match] = []
    for q, candidates in todo:
        if q.qid not in maps:
            try:
                maps[q.qid] = presence.dense_maxima(decode_pcm(q.media, max_seconds=q.duration_s + 1.0))
            except (DecodeError, OSError):
                continue
        post_map = maps[q.qid]
        for m in candidates:
            ref_q = by_qid.get(-1 - m.ref) if m.ref < 0 else None
            ref_peaks = stored.get(m.ref) if m.ref >= 0 else (ref_q.peak_frames, ref_q.peak_bins) if ref_q else None
            if ref_peaks is None:
                continue
            mode = "tempo" if m.method.endswith("tempo") else "pitch"
            anchor_post, anchor_ref = m.post_start_s / FRAME_S, m.ref_start_s / FRAME_S
            speed = m.speed if m.speed == 1.0 else presence.refined_speed(
                post_map, *ref_peaks, anchor_post, anchor_ref, m.speed, mode)
            present = presence.present_windows(
                post_map, *presence.ref_in_post(*ref_peaks, anchor_post, anchor_ref, speed, mode))
            start, end = int(anchor_post), int(np.ceil(m.post_end_s / FRAME_S))
            grown = presence.extended_span(present, start, end, post_map.shape[0])
            if grown == (start, end):
                continue
            ps, pe = grown[0] * FRAME_S, min(q.duration_s, grown[1] * FRAME_S)
            rs = m.ref_start_s + (ps - m.post_start_s) * speed
            out.append(Match(q.qid, m.ref, ps, pe, rs, rs + (pe - ps) * speed, round(speed, 4), m.score,
                             "landmarks_presence"))
    return out


def landmark_spans(query: Query, ref: int, off: int, speed: float, method: str, qt: np.ndarray, hs: np.ndarray,
                    min_votes: int) -> list[Match]:
    """Aligned landmarks (query anchor times `qt` on the reference's time scale) become a span when there are
    `min_votes` of them with diverse hashes."""
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
        out.append(Match(query.qid, ref, ps, pe, rs, re_, speed, min(1.0, n / inside), method))
    return out
