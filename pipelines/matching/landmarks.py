"""Spectral-peak landmark hashes (Wang 2003, as in Shazam/audfprint), own vectorised numpy.

Why a second signal: Chromaprint summarises the whole spectrum into 12 chroma bands, so a voice as loud as
the music changes nearly every bit and the match is lost. Landmarks keep only the strongest local peaks of
the spectrogram and hash pairs of them; a voice adds and hides some peaks, but the music's peaks where the
music dominates survive, and a few dozen aligned at one time offset are decisive (unrelated music: <= 6).
Peaks are stored per file by the fingerprint stage (pipelines.audio.peaks); hashing them here at a
corrected speed is how a sped-up or slowed query is matched without decoding again.
"""

from __future__ import annotations

import numpy as np

from pipelines.audio.peaks import FRAME_S, peaks

FAN_OUT = 6  # pairs per anchor
LOOK_AHEAD = 24  # later peaks considered per anchor
MAX_DT = 63  # frames (6 bits)
MAX_DF = 63  # bins (7 bits with sign)
AMBIGUOUS = 0.25  # a mapped coordinate within this of x.5 is hashed with both roundings

__all__ = ["FRAME_S", "INDEX_TRIPLET_FAN", "QUERY_TRIPLET_FAN", "SPEED_TRIPLET_FAN", "landmarks", "pair_hashes",
           "peaks", "raw_pairs", "scaled_pair_hashes", "scaled_triplet_keys", "speed_factors", "triplet_keys"]


def pair_hashes(t: np.ndarray, f: np.ndarray, speed: float = 1.0, mode: str = "pitch") -> tuple[np.ndarray, np.ndarray]:
    """(hash uint32, anchor frame int32) for pairs of time-sorted peaks: bin (8 bits) | df+64 (7) | dt (6).

    `speed` != 1 maps the peaks of a changed query back onto the original's grid before hashing ("pitch":
    resampled, times x speed and bins / speed; "tempo": time-stretched, times only; "key": pitch-shifted at the
    original tempo, bins only, e.g. sped up then slowed back).
    """
    return scaled_pair_hashes(t, f, *speed_factors(speed, mode))


def speed_factors(speed: float, mode: str) -> tuple[float, float]:
    """(time factor, pitch factor) of a speed preset: "pitch" (resampled) changes both, "tempo" (time-stretched)
    the time axis only, "key" (pitch-shifted at the original tempo) the bins only."""
    return 1.0 if mode == "key" else speed, speed if mode in ("pitch", "key") else 1.0


def raw_pairs(t: np.ndarray, f: np.ndarray, time_factor: float = 1.0,
              pitch_factor: float = 1.0) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(anchor bin, bin step, frame step, anchor frame) of each pair, peaks first mapped onto the original's grid
    (times x time_factor, bins / pitch_factor): up to FAN_OUT later peaks within LOOK_AHEAD per anchor."""
    n = t.size
    if n < 2:
        empty = np.zeros(0, np.float64)
        return empty, empty, empty, empty
    tt = t.astype(np.float64) * time_factor
    ff = f.astype(np.float64) / pitch_factor
    dt, df, ok = _next_peaks(tt, ff, n, FAN_OUT)
    a, k = np.nonzero(ok)
    return ff[a], df[a, k], dt[a, k], tt[a]


def _next_peaks(tt: np.ndarray, ff: np.ndarray, n: int, fan: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For each peak of `tt`, `ff` (blocks of `n` time-sorted peaks, one block per speed preset): frame and bin
    steps to its next LOOK_AHEAD peaks of the same block, and which of them pair with it (the first `fan` within
    1..MAX_DT frames and MAX_DF bins) - the eligibility shared by pair hashes and triplet keys."""
    j = np.arange(n)[:, None] + np.arange(1, LOOK_AHEAD + 1)[None, :]  # (n, LOOK_AHEAD) later peaks
    blocks = tt.size // n
    inside = np.tile(j < n, (blocks, 1))
    j = (np.minimum(j, n - 1)[None, :, :] + (np.arange(blocks) * n)[:, None, None]).reshape(blocks * n, -1)
    dt = tt[j] - tt[:, None]
    df = ff[j] - ff[:, None]
    ok = inside & (np.rint(dt) >= 1) & (np.rint(dt) <= MAX_DT) & (np.abs(np.rint(df)) <= MAX_DF)
    ok &= np.cumsum(ok, axis=1) <= fan
    return dt, df, ok


def scaled_pair_hashes(t: np.ndarray, f: np.ndarray, time_factor: float = 1.0,
                       pitch_factor: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """pair_hashes of a query whose time axis was changed by `time_factor` and its pitch by `pitch_factor`
    independently (a chain of a resampled and a time-stretched speed change). Mapped coordinates are
    fractional, so each pair is hashed with both roundings of every coordinate that is not near an integer."""
    f1, d_f, d_t, t1 = raw_pairs(t, f, time_factor, pitch_factor)
    if f1.size == 0:
        return np.zeros(0, np.uint32), np.zeros(0, np.int32)
    if time_factor == 1.0 and pitch_factor == 1.0:
        return _packed_pairs(np.rint(f1), np.rint(d_f), np.rint(d_t), np.rint(t1).astype(np.int32))
    # both roundings where the fraction is ambiguous, else the nearest only: each ambiguous coordinate adds a row
    # with its other rounding (of every row made so far), which gives every combination of the roundings once
    cols = [np.rint(f1), np.rint(d_f), np.rint(d_t)]
    alts = [np.where(np.rint(c) == np.floor(c), np.ceil(c), np.floor(c)) for c in (f1, d_f, d_t)]
    ambiguous = [np.abs(c - np.floor(c) - 0.5) < AMBIGUOUS for c in (f1, d_f, d_t)]
    frames = np.rint(t1).astype(np.int32)
    for i in range(3):
        m = ambiguous[i]
        extra = [c[m] for c in cols]
        extra[i] = alts[i][m]
        cols = [np.concatenate([c, e]) for c, e in zip(cols, extra, strict=False)]
        alts[i + 1:] = [np.concatenate([x, x[m]]) for x in alts[i + 1:]]
        ambiguous[i + 1:] = [np.concatenate([x, x[m]]) for x in ambiguous[i + 1:]]
        frames = np.concatenate([frames, frames[m]])
    h, tv = _packed_pairs(*cols, frames)
    # one row per (hash, frame), in (hash, frame) order: two roundings of different pairs can meet
    keyed = np.sort((h.astype(np.int64) << 32) | (tv.astype(np.int64) & 0xFFFFFFFF))
    keyed = keyed[np.concatenate([[True], keyed[1:] != keyed[:-1]])]  # np.unique's result, without its hash pass
    return (keyed >> 32).astype(np.uint32), (keyed & 0xFFFFFFFF).astype(np.int32)


def _packed_pairs(fo: np.ndarray, do: np.ndarray, to: np.ndarray,
                  frames: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(hash, anchor frame) of whole-numbered pair coordinates that fit the hash: bin (8 bits) | df+64 (7) | dt (6)."""
    good = (fo >= 0) & (fo < 256) & (np.abs(do) <= MAX_DF) & (to >= 1) & (to <= MAX_DT)
    h = (fo[good].astype(np.uint32) << 13) | ((do[good] + 64).astype(np.uint32) << 6) | to[good].astype(np.uint32)
    return h.astype(np.uint32), frames[good]


def landmarks(pcm: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(hash, anchor frame) of `pcm` at its own speed."""
    t, f = peaks(pcm)
    return pair_hashes(t, f)


# Triplet keys: the index's lookup key for landmark candidates (docs/matching.md, "Landmark candidates").
INDEX_TRIPLET_FAN = 4  # the index keeps each anchor with 2 of its next 4 peaks (6 keys per anchor)
QUERY_TRIPLET_FAN = 6  # a query tries 2 of its next 6 (15 per anchor): steps over peaks a voice added
SPEED_TRIPLET_FAN = 4  # per speed preset 2 of the next 4, as the index: the roundings already multiply the keys


def triplet_keys(t: np.ndarray, f: np.ndarray, fan: int) -> tuple[np.ndarray, np.ndarray]:
    """(key uint64, anchor frame int32) for each anchor with two of its next `fan` eligible peaks (the same
    eligibility as pairs): bin (8 bits) | df1+64 (7) | dt1 (6) | df2+64 (7) | dt2 (6). A pair hash has 21 bits,
    so at 10k indexed sounds every hash has ~20 postings and a lookup returns mostly chance; a triplet's 34 bits
    are ~8,000x rarer, so what a lookup returns is mostly the true alignments, whatever the index size."""
    *coords, anchor_t, _ = _triplet_coordinates(t, f, fan, np.ones(1), np.ones(1))
    return _pack_triplets(*coords), anchor_t.astype(np.int32)


def scaled_triplet_keys(t: np.ndarray, f: np.ndarray, factors: list[tuple[float, float]],
                        fan: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """triplet_keys of a query at each (time factor, pitch factor) of `factors` (a speed change undone: peaks
    mapped back onto the original's grid first, as scaled_pair_hashes does); each coordinate near x.5 is keyed
    with both roundings. Returns (key, anchor frame, index into `factors`), all presets in one vectorised pass."""
    *coords, anchor_t, which = _triplet_coordinates(
        t, f, fan, np.array([tf for tf, _ in factors], np.float64), np.array([pf for _, pf in factors], np.float64))
    if anchor_t.size == 0:
        return np.zeros(0, np.uint64), np.zeros(0, np.int32), np.zeros(0, np.int64)
    # whole numbers from here on (int32: the same values as the float roundings, half the bytes to copy)
    cols = [np.rint(c).astype(np.int32) for c in coords]
    alts = [np.where(np.rint(c) == np.floor(c), np.ceil(c), np.floor(c)).astype(np.int32) for c in coords]
    ambiguous = [np.abs(c - np.floor(c) - 0.5) < AMBIGUOUS for c in coords]
    frames = np.rint(anchor_t).astype(np.int32)
    for i in range(len(cols)):  # each ambiguous coordinate doubles its rows: one per rounding
        m = ambiguous[i]
        extra = [c[m] for c in cols]
        extra[i] = alts[i][m]
        cols = [np.concatenate([c, e]) for c, e in zip(cols, extra, strict=False)]
        # the roundings of the coordinates still to come (those done are no longer needed)
        alts[i + 1:] = [np.concatenate([x, x[m]]) for x in alts[i + 1:]]
        ambiguous[i + 1:] = [np.concatenate([x, x[m]]) for x in ambiguous[i + 1:]]
        frames = np.concatenate([frames, frames[m]])
        which = np.concatenate([which, which[m]])
    fa, df1, dt1, df2, dt2 = cols
    good = ((fa >= 0) & (fa < 256) & (np.abs(df1) <= MAX_DF) & (np.abs(df2) <= MAX_DF)
            & (dt1 >= 1) & (dt1 <= MAX_DT) & (dt2 >= 1) & (dt2 <= MAX_DT))
    # a key can repeat (two roundings of different peaks meeting): the lookup counts distinct (key, frame) only
    return _pack_triplets(*(c[good] for c in cols)), frames[good].astype(np.int32), which[good]


def _triplet_coordinates(t: np.ndarray, f: np.ndarray, fan: int, time_factors: np.ndarray,
                         pitch_factors: np.ndarray) -> tuple[np.ndarray, ...]:
    """(anchor bin, df1, dt1, df2, dt2, anchor frame, preset) as floats (preset: int), for each preset p, peaks
    mapped (times x time_factors[p], bins / pitch_factors[p]), for each anchor and each two of its next `fan`
    eligible peaks."""
    n = t.size
    if n < 3:
        return (*(np.zeros(0) for _ in range(6)), np.zeros(0, np.int64))
    tt = (t.astype(np.float64)[None, :] * time_factors[:, None]).reshape(-1)  # preset-major: row p * n + i
    ff = (f.astype(np.float64)[None, :] / pitch_factors[:, None]).reshape(-1)
    dt, df, ok = _next_peaks(tt, ff, n, fan)
    rank = np.cumsum(ok, axis=1)
    # column of each anchor's r-th eligible peak (r = 1..fan); -1 where it has fewer
    nth = [np.where(rank[:, -1] >= r, np.argmax(ok & (rank == r), axis=1), -1) for r in range(1, fan + 1)]
    parts: list[list[np.ndarray]] = [[] for _ in range(7)]
    for a in range(fan):
        for b in range(a + 1, fan):
            rows = np.flatnonzero(nth[b] >= 0)
            ca, cb = nth[a][rows], nth[b][rows]
            for i, part in enumerate((ff[rows], df[rows, ca], dt[rows, ca], df[rows, cb], dt[rows, cb], tt[rows],
                                      rows // n)):
                parts[i].append(part)
    return tuple(np.concatenate(p) for p in parts)


def _pack_triplets(fa: np.ndarray, df1: np.ndarray, dt1: np.ndarray, df2: np.ndarray, dt2: np.ndarray) -> np.ndarray:
    """bin (8 bits) | df1+64 (7) | dt1 (6) | df2+64 (7) | dt2 (6) of whole-numbered coordinates."""
    def u(x: np.ndarray) -> np.ndarray:
        return np.rint(x).astype(np.int64).astype(np.uint64)
    return ((u(fa) << np.uint64(26)) | (u(df1 + 64) << np.uint64(19)) | (u(dt1) << np.uint64(13))
            | (u(df2 + 64) << np.uint64(6)) | u(dt2))
