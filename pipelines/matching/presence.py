"""Is a sound still playing under a voice? Peak presence along an alignment that landmarks already verified.

Landmarks need both peaks of a pair to survive the mix; under a voice as loud as the music (a duet, a
voice-over) most pairs break after the voice starts, so the verified stretch covers only the first seconds
and the post would wrongly become a new sound. Once the alignment is known, a weaker but denser test is
enough: do the reference's spectral peaks, moved to the post's time, land on local maxima of the post's
spectrum? Additive mixing keeps most of them (the music is still there, only louder things sit beside it).

Measured on the demo world (3,536 windows of voice-carrying posts at their true alignment vs 8,387 windows of
unrelated audio at chance alignments, 2 s windows): true windows have a median rate of 0.77 (25th percentile
0.61); chance windows a median of 0.13, 99.9th percentile 0.43, maximum 0.51. No fixed rate separates them
everywhere: a dense, noisy post finds many maxima by chance, and a post over a sound that itself carries a
voice finds only ~0.4-0.6 of its peaks. So each window is judged against its own chance level: the same
window's rate at other alignments of the same two audios, and the window counts as "present" when its hits
are Z_MIN standard deviations above what that chance rate predicts (a binomial z-score over its reference
peaks). A stitch's reply, unrelated audio after the parent's first seconds, stays at chance and is never
covered.
"""

from __future__ import annotations

import numpy as np

from pipelines.audio.peaks import FRAME_S, MAX_BIN, MIN_BIN, running_max, spectrogram_db
from pipelines.matching.pair_table import PairTable
from pipelines.matching.types import Match, Query

WINDOW_FRAMES = 86  # ~2 s per judged window
MIN_REF_PEAKS = 20  # reference peaks a window needs to be judged at all
MIN_HITS = 8  # and hits: 5 of 20 by luck in a stitch's 2 s of speech reached z 2.9 against a low chance estimate
MIN_RATE = 0.25  # below this a window is not present whatever its z-score (the chance median is 0.13)
Z_MIN = 2.5  # hits above the chance expectation, in binomial standard deviations (~0.6 % one-sided by chance)
MIN_CHANCE = 0.05  # floor of the chance rate (a silent stretch of the post has no maxima at any alignment)
CHANCE_SHIFTS = (-97, -61, 53, 89)  # frames; far from the alignment, not multiples of a bar at common tempos
MAX_GAP_WINDOWS = 1  # a failing window (the voice peaks) does not end a run that goes on with two present ones
DENSE_TIME, DENSE_FREQ = 1, 1  # a dense maximum dominates +-1 frame and +-1 bin
DENSE_PROMINENCE_DB = 6.0  # and stands 6 dB above its frame's median
TIME_TOLERANCE = 1  # frames a reference peak may be off in the post
SPEED_STEP, SPEED_STEPS = 0.005, 7  # speeds tried around a matched speed preset: +-3.5 % in 0.5 % steps
MIN_PRESENT_SHARE = 0.6  # a weak seed (vote.MIN_LM_VOTES_WEAK) is confirmed when this share of its span's windows
# has the sound present (a chance alignment: ~1 window in 200)
PEAK_RUNNER_UP_GAP = 3  # frames: peak_alignment's runner-up lies further than this from its best offset
PRESENCE_TRIES = 32  # landmark alignments per unexplained query given the peak-presence test: all of them in
# practice (related sounds often share an intro, so the true parent's stretch may be the shortest)


def dense_maxima(pcm: np.ndarray) -> np.ndarray:
    """(frames, MAX_BIN + 1) bool map of the post's local spectral maxima (~300 per second, vs ~30 peaks)."""
    s = spectrogram_db(pcm)
    if s.shape[0] == 0:
        return np.zeros((0, MAX_BIN + 1), dtype=bool)
    s = s[:, : MAX_BIN + 1]
    s[:, :MIN_BIN] = -200.0
    median = np.median(s[:, MIN_BIN:], axis=1, keepdims=True)
    local = running_max(running_max(s, DENSE_FREQ, 1, -300.0), DENSE_TIME, 0, -300.0)
    loud = s >= s.max(axis=1, keepdims=True) - 45.0
    return (s == local) & (s - median > DENSE_PROMINENCE_DB) & (s > -70.0) & loud


def ref_in_post(ref_frames: np.ndarray, ref_bins: np.ndarray, anchor_post: float, anchor_ref: float,
                speed: float = 1.0, mode: str = "pitch") -> tuple[np.ndarray, np.ndarray]:
    """The reference's peaks moved to the post's (frame, bin) grid: reference frame `anchor_ref` plays at post
    frame `anchor_post`, `speed` reference frames per post frame; a resampled copy ('pitch') also moves every
    frequency by `speed`, a tempo-only stretch keeps it."""
    frames = np.rint(anchor_post + (ref_frames.astype(np.float64) - anchor_ref) / speed).astype(np.int64)
    bins = np.rint(ref_bins * speed).astype(np.int64) if mode == "pitch" and speed != 1.0 else ref_bins.astype(np.int64)
    return frames, bins


def window_rates(post_map: np.ndarray, frames: np.ndarray, bins: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(rate, peaks) per post window: the share of the reference's peaks, at post (`frames`, `bins`), found on a
    post maximum within TIME_TOLERANCE frames, and how many reference peaks fell in the window."""
    n_frames = post_map.shape[0]
    n_windows = max(1, -(-n_frames // WINDOW_FRAMES))
    keep = (frames >= 0) & (frames < n_frames) & (bins >= 0) & (bins <= MAX_BIN)
    qt, f = frames[keep], bins[keep]
    hit = np.zeros(qt.size, dtype=bool)
    for d in range(-TIME_TOLERANCE, TIME_TOLERANCE + 1):
        hit |= post_map[np.clip(qt + d, 0, n_frames - 1), f]
    w = qt // WINDOW_FRAMES
    counts = np.bincount(w, minlength=n_windows)[:n_windows]
    hits = np.bincount(w, weights=hit, minlength=n_windows)[:n_windows]
    return hits / np.maximum(counts, 1), counts


def present_windows(post_map: np.ndarray, frames: np.ndarray, bins: np.ndarray) -> np.ndarray:
    """Per post window: does the reference (its peaks at post `frames`, `bins`) play there? Enough reference
    peaks, at least MIN_HITS hits and a rate of MIN_RATE, and Z_MIN standard deviations above the window's
    own chance rate."""
    rate, counts = window_rates(post_map, frames, bins)
    chance = np.mean([window_rates(post_map, frames + s, bins)[0] for s in CHANCE_SHIFTS], axis=0)
    p = np.clip(chance, MIN_CHANCE, 0.95)
    z = (rate - p) * np.sqrt(counts / (p * (1.0 - p)))
    return (counts >= MIN_REF_PEAKS) & (rate * counts >= MIN_HITS) & (rate >= MIN_RATE) & (z >= Z_MIN)


def refined_speed(post_map: np.ndarray, ref_frames: np.ndarray, ref_bins: np.ndarray, anchor_post: float,
                  anchor_ref: float, speed: float, mode: str) -> float:
    """The speed near a matched preset that puts most reference peaks on post maxima: a preset is only within
    ~3 % of the real speed, which drifts the alignment by a frame every ~1.5 s."""
    def hits(s: float) -> float:
        rate, counts = window_rates(post_map, *ref_in_post(ref_frames, ref_bins, anchor_post, anchor_ref, s, mode))
        return float((rate * counts).sum())
    return max((speed * (1.0 + k * SPEED_STEP) for k in range(-SPEED_STEPS, SPEED_STEPS + 1)), key=hits)


def extended_span(present: np.ndarray, start_frame: int, end_frame: int, n_frames: int) -> tuple[int, int]:
    """Grow [start_frame, end_frame) over runs of present windows touching it, bridging at most
    MAX_GAP_WINDOWS failing windows when a present one follows; returns the new frame range."""
    first, last = start_frame // WINDOW_FRAMES, max(start_frame, end_frame - 1) // WINDOW_FRAMES
    n = present.size

    def grow(i: int, step: int) -> int:
        edge = i
        while 0 <= i + step < n:
            nxt = i + step
            if present[nxt]:
                edge = i = nxt
                continue
            # bridge a gap only into two present windows in a row: one window passes by chance now and then
            # (~1 in 200 of a stitch's reply windows in the bench), two in a row practically never
            ahead = [nxt + k * step for k in range(1, MAX_GAP_WINDOWS + 1)]
            bridge = next((j for j in ahead if 0 <= j + step < n and 0 <= j < n and present[j] and present[j + step]),
                          None)
            if bridge is None:
                break
            edge = i = bridge + step
        return edge

    lo, hi = grow(first, -1), grow(last, +1)
    start = lo * WINDOW_FRAMES if lo < first else start_frame
    end = min(n_frames, (hi + 1) * WINDOW_FRAMES) if hi > last else end_frame
    return min(start, start_frame), max(end, end_frame)


def peak_alignment(q_frames: np.ndarray, q_bins: np.ndarray, ref_frames: np.ndarray,
                   ref_bins: np.ndarray) -> tuple[int, int, int]:
    """(votes, runner-up votes, offset = reference frame - post frame) of the best alignment of two peak sets,
    voted by single peaks on the same bin (+-1 frame). A pair hash needs both of its peaks to survive a loud
    voice, a single peak only itself: where 8-14 of the music's pairs still align, 28-50 of its peaks do, against
    a runner-up (the same two audios' best other offset) of half that; chance alignments come within 1.4x of
    their runner-up (real-music bench, docs/matching.md). Not indexable (8 bits), so only for a few candidates;
    looked up by bin in a PairTable of the reference's peaks."""
    if q_frames.size == 0 or ref_frames.size == 0:
        return 0, 0, 0
    _, offs = PairTable.of([(ref_bins, ref_frames)], space=MAX_BIN + 1).hits(q_bins.astype(np.int64), q_frames)
    if offs.size == 0:
        return 0, 0, 0
    low = int(offs.min())
    votes = np.convolve(np.bincount(offs - low + 1, minlength=int(offs.max()) - low + 3), [1, 1, 1], "same")
    best = int(np.argmax(votes))
    far = np.abs(np.arange(votes.size) - best) > PEAK_RUNNER_UP_GAP
    return int(votes[best]), int(votes[far].max()) if far.any() else 0, best - 1 + low


def alignments_to_grow(queries: list[Query], found: dict[int, list[Match]],
                       methods: tuple[str, ...]) -> list[tuple[Query, list[Match]]]:
    """The queries the test can run on (their media file known) with their alignments found by `methods`,
    longest first, at most PRESENCE_TRIES each."""
    todo: list[tuple[Query, list[Match]]] = []
    for q in queries:
        alignments = [m for m in found[q.qid] if m.method in methods]
        if q.media is not None and alignments:
            todo.append((q, sorted(alignments, key=lambda m: m.post_start_s - m.post_end_s)[:PRESENCE_TRIES]))
    return todo


def grown_match(q: Query, m: Match, post_map: np.ndarray, ref_frames: np.ndarray,
                ref_bins: np.ndarray) -> Match | None:
    """Alignment `m` of `q` (a verified landmark stretch, as posted or at a speed: landmarks_speed_pitch /
    _tempo) grown over the windows where the reference's peaks (`ref_frames`, `ref_bins`) are present in the
    post (`post_map`: its dense_maxima), as `landmarks_presence`; None when it does not grow."""
    mode = "tempo" if m.method.endswith("tempo") else "pitch"
    anchor_post, anchor_ref = m.post_start_s / FRAME_S, m.ref_start_s / FRAME_S
    speed = m.speed if m.speed == 1.0 else refined_speed(post_map, ref_frames, ref_bins, anchor_post, anchor_ref,
                                                         m.speed, mode)
    present = present_windows(post_map, *ref_in_post(ref_frames, ref_bins, anchor_post, anchor_ref, speed, mode))
    start, end = int(anchor_post), int(np.ceil(m.post_end_s / FRAME_S))
    grown = extended_span(present, start, end, post_map.shape[0])
    if grown == (start, end):
        return None
    ps, pe = grown[0] * FRAME_S, min(q.duration_s, grown[1] * FRAME_S)
    rs = m.ref_start_s + (ps - m.post_start_s) * speed
    # a resampled alignment's pitch follows its refined speed; as posted or time-stretched, it stays the seed's
    pitch = round(speed, 4) if mode == "pitch" and m.speed != 1.0 else m.pitch
    return Match(q.qid, m.ref, ps, pe, rs, rs + (pe - ps) * speed, round(speed, 4), pitch, m.score,
                 "landmarks_presence")


def confirmed_match(q: Query, m: Match, post_map: np.ndarray, ref_frames: np.ndarray,
                    ref_bins: np.ndarray) -> Match | None:
    """A weak as-posted alignment `m` (too few landmarks to verify: a voice louder than the music keeps ~10-19 of
    the music's pairs) confirmed by peak presence: grown over present windows like `grown_match`, and kept as
    `landmarks_presence` only if at least MIN_PRESENT_SHARE of the windows of the grown span are present."""
    anchor_post, anchor_ref = m.post_start_s / FRAME_S, m.ref_start_s / FRAME_S
    present = present_windows(post_map, *ref_in_post(ref_frames, ref_bins, anchor_post, anchor_ref))
    start, end = int(anchor_post), int(np.ceil(m.post_end_s / FRAME_S))
    lo, hi = extended_span(present, start, end, post_map.shape[0])
    windows = present[lo // WINDOW_FRAMES: max(lo // WINDOW_FRAMES + 1, -(-hi // WINDOW_FRAMES))]
    if windows.size == 0 or windows.mean() < MIN_PRESENT_SHARE:
        return None
    ps, pe = lo * FRAME_S, min(q.duration_s, hi * FRAME_S)
    rs = m.ref_start_s + (ps - m.post_start_s)
    return Match(q.qid, m.ref, ps, pe, rs, rs + (pe - ps), 1.0, 1.0, m.score, "landmarks_presence")


def present_part(q: Query, m: Match, post_map: np.ndarray, ref_frames: np.ndarray,
                 ref_bins: np.ndarray) -> Match | None:
    """A seed spanning the whole overlap of the post and a reference (recent.RecentSounds.candidates: an alignment
    by single peaks, no verified stretch to grow from) cut to its first and last windows with the sound present,
    kept as `landmarks_presence` only if at least MIN_PRESENT_SHARE of the windows between them are present. A
    stitch that opens with the sound keeps only its opening; a voice over the whole sound keeps all of it."""
    anchor_post, anchor_ref = m.post_start_s / FRAME_S, m.ref_start_s / FRAME_S
    present = present_windows(post_map, *ref_in_post(ref_frames, ref_bins, anchor_post, anchor_ref))
    first = int(anchor_post) // WINDOW_FRAMES
    inside = present[first: int(np.ceil(m.post_end_s / FRAME_S)) // WINDOW_FRAMES + 1]
    hits = np.flatnonzero(inside)
    if hits.size == 0 or inside[hits[0]: hits[-1] + 1].mean() < MIN_PRESENT_SHARE:
        return None
    ps = max(m.post_start_s, (first + hits[0]) * WINDOW_FRAMES * FRAME_S)
    pe = min(m.post_end_s, q.duration_s, (first + hits[-1] + 1) * WINDOW_FRAMES * FRAME_S)
    rs = m.ref_start_s + (ps - m.post_start_s)
    return Match(q.qid, m.ref, ps, pe, rs, rs + (pe - ps), 1.0, 1.0, m.score, "landmarks_presence")
