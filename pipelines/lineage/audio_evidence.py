"""Is a post a stitch or a duet of an earlier post? Pure comparisons of two posts' stored spectral peaks.

A stitch opens with its parent post's first seconds and then turns into something else; a duet plays its
parent's whole audio from its start, with a new layer on top. Both are claims about *post time*: the parent's
audio from its own second 0 sits at the child's second 0. So each candidate pair is compared at that one
alignment (searched over a few frames for encoder delays), in short windows:

* parent → child: which windows of the parent's peaks land on peaks of the child (the parent heard in the
  child); its own added material (a voice-over, a duetter's voice) is part of those peaks, so the true parent
  of several posts playing the same sound scores highest;
* child → parent: which windows of the child's peaks the parent explains (after a stitch's opening, none).

Each window is judged against the chance level of the same two peak sets at far-off alignments (a binomial
z-score), so a dense post or a quiet one does not decide by itself. Peaks survive re-encoding and additive
mixing well enough (a voice at 0 dB takes some of the strongest peaks, not all of them), and the test needs
no decoding: it reads `audio_peaks`.

The verdicts (docs/lineage.md, "Audio evidence"):
* stitch: the parent's opening is heard from the child's start (HEAD_MIN_S … HEAD_MAX_S, and the parent goes
  on after it: the child turned away, the parent did not just end), and after it the child runs
  on for ≥ TAIL_MIN_S with at most TAIL_MAX_EXPLAINED of its windows explained by the parent, and does not
  go on playing the sound the two share (a post that opens like the parent because both play the same sound
  from the same second, and then continues that sound, is not a stitch of it);
* duet: the parent is heard over ≥ DUET_MIN_COVER of its windows, the child lasts as long as the parent
  (± DUR_TOL), the child carries material the parent does not explain (≥ DUET_MIN_ADDED of its peaks: a plain
  copy of the same audio is a reuse, not a duet), and, when the parent has material of its own (peaks the
  sound it plays does not explain: its voice-over, its own duetter), the child carries that too: a post that
  plays the same *sound* from the same second is a reuse of the sound, not a duet of that post. Unless the
  parent made its platform music (its first post: a talking "original sound" over a song, a re-upload): then
  every reuse of that music carries the parent's additions too, and hearing them tells a duet from nothing.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from pipelines.audio.peaks import FRAME_S

TIME_TOL, BIN_TOL = 1, 1  # a peak may move by a frame and a bin between encodings
N_BINS = 260  # peaks live in bins < 257 (512-point FFT)
WINDOW_FRAMES = 22  # ~0.51 s per judged window: a 1 s stitch opening still spans two windows
MIN_WINDOW_PEAKS = 6  # fewer reference peaks: the window is not judged (silence, a fade)
MIN_HITS, MIN_RATE, Z_MIN = 4, 0.25, 3.0
MIN_CHANCE = 0.02
ALIGN_SHIFTS = range(-6, 7)  # frames (~±0.14 s): encoder delay and padding differ between files
CHANCE_SHIFTS = (-97, -61, 53, 89)
HEAD_MIN_S = 0.9  # a stitch opening shorter than this is not told from chance
HEAD_MAX_S = 6.5  # TikTok stitches take at most 5 s of the parent; plus the window's slack
PARENT_GOES_ON_S = 0.25  # the parent must still play where the child turns away
TAIL_MIN_S = 2.0
TAIL_MAX_EXPLAINED = 0.15
SOUND_END_TOL_S = 3.0  # how far past a stitch's opening the matcher may say the shared sound goes on (spans overshoot)
DUET_MIN_COVER = 0.6
DUET_MIN_ADDED = 0.08
DUR_TOL_S, DUR_TOL_FRAC = 1.0, 0.05
OWN_WINDOW_SHARE = 0.5  # a window of the parent is its own material when most of its peaks are not the sound's
OWN_MIN_WINDOWS, OWN_MIN_WINDOW_SHARE = 4, 0.2  # own material: ≥ 2 s of it and a fifth of the parent's windows
OWN_GAIN_MIN = 0.1  # and explains that much of the child that the sound does not
OWN_MIN_HEARD, OWN_ABOVE_CHANCE = 0.5, 0.3  # a duet carries its parent's own material, well above chance
# a reference that explains fewer of the parent's peaks than this (where both have audio) does not play what the
# parent plays (another speed, another part: measured 0.04-0.10 for such pairs, 0.20-0.68 for true references)
REF_MIN_EXPLAINED = 0.15


@dataclass(frozen=True)
class PairAudio:
    """What the peaks say about child vs candidate parent at post time 0 ↔ post time 0."""

    shift_frames: int  # parent frame f plays at child frame f + shift
    chance: float  # hit rate at far-off alignments
    head_s: float  # seconds from the start over which the parent is heard in the child
    tail_s: float  # seconds of the child after that opening
    tail_explained: float  # share of the tail's judged windows the parent explains
    cover: float  # share of the parent's judged windows (within the child's length) heard in the child
    parent_rate: float  # share of the parent's peaks (within the child's length) heard in the child
    head_rate: float  # the same over the opening only
    head_similarity: float  # F1 of the opening: head_rate and the share of the child's opening peaks the parent
    # explains (the stitched post's opening is the child's, rendering and all; orders ties among candidates)
    own_windows: int | None  # the parent's windows of its own material (None: no reference to tell them)
    heard_own: float | None  # share of their peaks the child carries (None: too few to judge)
    own_chance: float  # the same at far-off alignments
    own_gain: float | None  # share of the child's peaks the parent explains and the sound does not
    head_own: float | None  # share of the parent's own peaks within the opening heard there (None: too few)
    added: float  # share of the child's peaks over the shared span the parent does not explain
    duration_match: bool  # the child lasts as long as the parent
    sound_end_s: float | None  # where what the child opens with stops in it (post_sounds: the shared sound, or
    # an earlier one it plays from its start)
    parent_made_music: bool  # the parent is the first post of its platform music: its additions are the music's
    explained_s: float  # seconds of the child the parent accounts for (the opening, or the whole duet)
    stitch: bool
    duet_like: bool  # consistent with a duet (enough to confirm a caption or an id)
    duet: bool  # a duet by the audio alone

    def as_dict(self) -> dict:
        return asdict(self)


def occupancy(frames: np.ndarray, bins: np.ndarray, n_frames: int) -> np.ndarray:
    """(n_frames, N_BINS) bool grid of the peaks, each widened by TIME_TOL frames and BIN_TOL bins."""
    grid = np.zeros((max(n_frames, 1), N_BINS), dtype=bool)
    f = np.asarray(frames, dtype=np.int64)
    b = np.asarray(bins, dtype=np.int64)
    for dt in range(-TIME_TOL, TIME_TOL + 1):
        for db in range(-BIN_TOL, BIN_TOL + 1):
            ff, bb = f + dt, b + db
            ok = (ff >= 0) & (ff < grid.shape[0]) & (bb >= 0) & (bb < N_BINS)
            grid[ff[ok], bb[ok]] = True
    return grid


def time_dilated(post_map: np.ndarray) -> np.ndarray:
    """A dense-maxima map (pipelines.matching.presence.dense_maxima: frames × bins) as a grid for `hits_at`:
    each maximum widened by TIME_TOL frames (bins exact: the maxima are dense), padded to N_BINS."""
    grid = np.zeros((max(post_map.shape[0], 1), N_BINS), dtype=bool)
    n, nb = post_map.shape[0], min(post_map.shape[1], N_BINS)
    for dt in range(-TIME_TOL, TIME_TOL + 1):
        lo, hi = max(0, dt), min(n, n + dt)
        grid[lo:hi, :nb] |= post_map[lo - dt:hi - dt, :nb]
    return grid


def hits_at(ref_frames: np.ndarray, ref_bins: np.ndarray, grid: np.ndarray, shift: int) -> np.ndarray:
    """Per reference peak: does it land on a peak of `grid` when moved by `shift` frames?"""
    f = np.asarray(ref_frames, dtype=np.int64) + shift
    b = np.asarray(ref_bins, dtype=np.int64)
    ok = (f >= 0) & (f < grid.shape[0]) & (b < N_BINS)
    out = np.zeros(f.size, dtype=bool)
    out[ok] = grid[f[ok], b[ok]]
    return out


def window_presence(ref_frames: np.ndarray, hit: np.ndarray, chance: float, n_windows: int,
                    offset: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(judged, present) per window of WINDOW_FRAMES (by ref frame + offset): present when the window's hits
    are Z_MIN binomial standard deviations above `chance`, at least MIN_HITS and MIN_RATE."""
    w = (np.asarray(ref_frames, dtype=np.int64) + offset) // WINDOW_FRAMES
    keep = (w >= 0) & (w < n_windows)
    n = np.bincount(w[keep], minlength=n_windows)[:n_windows]
    h = np.bincount(w[keep], weights=hit[keep].astype(np.float64), minlength=n_windows)[:n_windows]
    p = max(chance, MIN_CHANCE)
    judged = n >= MIN_WINDOW_PEAKS
    with np.errstate(divide="ignore", invalid="ignore"):
        z = (h - n * p) / np.sqrt(np.maximum(n * p * (1 - p), 1e-9))
        rate = np.where(n > 0, h / np.maximum(n, 1), 0.0)
    present = judged & (h >= MIN_HITS) & (rate >= MIN_RATE) & (z >= Z_MIN)
    return judged, present


def _head_windows(judged: np.ndarray, present: np.ndarray) -> int:
    """Windows from the start over which the reference is heard: a run of present windows that starts in the
    first two, unjudged windows and one failing window inside the run tolerated; 0 if none."""
    start = next((i for i in range(min(2, present.size)) if present[i]), None)
    if start is None:
        return 0
    end, gap = start, 0
    for i in range(start, present.size):
        if present[i]:
            end, gap = i, 0
        elif judged[i]:
            gap += 1
            if gap > 1:
                break
    return end + 1


def own_material(parent_frames: np.ndarray, parent_bins: np.ndarray, ref_frames: np.ndarray,
                 ref_bins: np.ndarray, ref_t0_s: float) -> np.ndarray:
    """Per parent peak: is it the parent's own (not explained by the reference audio of the sound it plays, whose
    sound time `ref_t0_s` sits at the parent's second 0)? The reference is aligned within ALIGN_SHIFTS. None of
    them when the reference explains under REF_MIN_EXPLAINED of the parent's peaks: it does not play what the
    parent plays (a first post at another speed), and everything would look like the parent's own."""
    pf = np.asarray(parent_frames, dtype=np.int64)
    rf = np.asarray(ref_frames, dtype=np.int64)
    if not pf.size or not rf.size:
        return np.zeros(pf.size, dtype=bool)
    grid = occupancy(rf, ref_bins, int(rf.max()) + 1)
    base = round(ref_t0_s / FRAME_S)
    hits = max((hits_at(pf, parent_bins, grid, base + s) for s in ALIGN_SHIFTS), key=lambda h: int(h.sum()))
    # only where the reference has audio: past its ends (a sound indexed from a short first post) nothing is told
    at_ref = pf + base
    within = (at_ref >= int(rf.min()) + WINDOW_FRAMES) & (at_ref <= int(rf.max()) - WINDOW_FRAMES)
    if not within.any() or hits[within].mean() < REF_MIN_EXPLAINED:
        return np.zeros(pf.size, dtype=bool)
    return ~hits & within


def own_gain(child_frames: np.ndarray, child_bins: np.ndarray, parent_grid: np.ndarray, shift: int,
             ref_frames: np.ndarray, ref_bins: np.ndarray, ref_t0_s: float) -> float:
    """Share of the child's peaks that the parent explains and its reference (the sound) does not: the parent's
    own material heard in the child. ~0 for a post that plays the same sound without the parent's additions."""
    cf = np.asarray(child_frames, dtype=np.int64)
    rf = np.asarray(ref_frames, dtype=np.int64)
    if not cf.size or not rf.size:
        return 0.0
    by_parent = hits_at(cf, child_bins, parent_grid, -shift)
    grid = occupancy(rf, ref_bins, int(rf.max()) + 1)
    base = round(ref_t0_s / FRAME_S) - shift
    by_ref = max((hits_at(cf, child_bins, grid, base + s) for s in ALIGN_SHIFTS), key=lambda h: int(h.sum()))
    at_ref = cf + base
    within = (at_ref >= int(rf.min()) + WINDOW_FRAMES) & (at_ref <= int(rf.max()) - WINDOW_FRAMES) & (
        cf - shift >= 0) & (cf - shift < parent_grid.shape[0])
    return float((by_parent & ~by_ref)[within].mean()) if within.any() else 0.0


def compare(child_frames: np.ndarray, child_bins: np.ndarray, child_dur_s: float,
            parent_frames: np.ndarray, parent_bins: np.ndarray, parent_dur_s: float,
            ref: tuple[np.ndarray, np.ndarray, float] | None = None,
            child_sound_end_s: float | None = None, child_map: np.ndarray | None = None,
            parent_own: np.ndarray | None = None, parent_made_music: bool = False) -> PairAudio:
    """Child vs candidate parent, both from their own start (module docstring). `ref` (frames, bins, sound time
    at the parent's second 0) is the sound the parent plays, to tell the parent's own material from it;
    `child_sound_end_s`, where what the child opens with stops in it (post_sounds), when known;
    `child_map`, the child's dense spectral maxima (decoded again): the parent's peaks are looked for there, where
    a loud new layer does not hide them, instead of among the child's few strongest peaks; `parent_own`, the
    parent's `own_material` against `ref` when already known (it depends on the parent and `ref` only);
    `parent_made_music`, the parent is the first post of its platform music (no audio-only duet of it)."""
    cf, cb = np.asarray(child_frames, dtype=np.int64), np.asarray(child_bins, dtype=np.int64)
    pf, pb = np.asarray(parent_frames, dtype=np.int64), np.asarray(parent_bins, dtype=np.int64)
    n_child = round(child_dur_s / FRAME_S) + 1
    n_parent = round(parent_dur_s / FRAME_S) + 1
    if cf.size:
        n_child = max(n_child, int(cf.max()) + 1)
    if pf.size:
        n_parent = max(n_parent, int(pf.max()) + 1)
    if child_map is not None and child_map.shape[0]:
        n_child = max(n_child, child_map.shape[0])
        cgrid = time_dilated(child_map)
        if cgrid.shape[0] < n_child:
            cgrid = np.vstack([cgrid, np.zeros((n_child - cgrid.shape[0], N_BINS), dtype=bool)])
    else:
        cgrid = occupancy(cf, cb, n_child)
    pgrid = occupancy(pf, pb, n_parent)
    # the alignment: the shift at which most of the parent's opening (first 5 s) lands in the child
    opening = pf < int(5.0 / FRAME_S)
    shift = max(ALIGN_SHIFTS, key=lambda s: (int(hits_at(pf[opening], pb[opening], cgrid, s).sum()), -abs(s)))
    p_hit = hits_at(pf, pb, cgrid, shift)
    c_hit = hits_at(cf, cb, pgrid, -shift)
    inside_p = (pf + shift >= 0) & (pf + shift < n_child)
    inside_c = (cf - shift >= 0) & (cf - shift < n_parent)
    chance_hits = sum(int(hits_at(pf[inside_p], pb[inside_p], cgrid, shift + s).sum()) for s in CHANCE_SHIFTS)
    chance = chance_hits / max(len(CHANCE_SHIFTS) * int(inside_p.sum()), 1)
    c_chance_hits = sum(int(hits_at(cf[inside_c], cb[inside_c], pgrid, -shift + s).sum()) for s in CHANCE_SHIFTS)
    c_chance = c_chance_hits / max(len(CHANCE_SHIFTS) * int(inside_c.sum()), 1)

    n_cw = -(-n_child // WINDOW_FRAMES)
    pj, pp = window_presence(pf, p_hit, chance, n_cw, offset=shift)  # parent windows on the child's clock
    cj, cp = window_presence(cf, c_hit, c_chance, n_cw)
    head = _head_windows(pj, pp)
    head_s = head * WINDOW_FRAMES * FRAME_S
    tail_from = head + 1  # the window where the opening ends may hold both
    tail_j = cj[tail_from:]
    tail_s = max(child_dur_s - head_s, 0.0)
    tail_explained = float(cp[tail_from:][tail_j].mean()) if tail_j.any() else 0.0
    shared = pj[: -(-min(n_parent + shift, n_child) // WINDOW_FRAMES)]
    cover = float(pp[: shared.size][shared].mean()) if shared.any() else 0.0
    parent_rate = float(p_hit[inside_p].mean()) if inside_p.any() else 0.0
    in_shared = inside_c
    added = float(1.0 - c_hit[in_shared].mean()) if in_shared.any() else 0.0
    # the parent's own material within the child's span: windows (on the child's clock) where most of the
    # parent's peaks are not the sound's (a voice-over, a duetter; a plain copy's encoder noise stays below),
    # and how much of it the child carries
    if ref is None:
        own = np.zeros(pf.size, dtype=bool)
    else:
        own = parent_own if parent_own is not None else own_material(pf, pb, ref[0], ref[1], ref[2])
    pw = (pf + shift) // WINDOW_FRAMES
    ok_w = inside_p & (pw >= 0) & (pw < n_cw)
    n_w = np.bincount(pw[ok_w], minlength=n_cw)[:n_cw]
    own_w = np.bincount(pw[ok_w], weights=own[ok_w].astype(np.float64), minlength=n_cw)[:n_cw]
    own_windows = (n_w >= MIN_WINDOW_PEAKS) & (own_w >= OWN_WINDOW_SHARE * np.maximum(n_w, 1))
    own_in = ok_w & own & own_windows[np.clip(pw, 0, n_cw - 1)]
    n_own_windows = int(own_windows.sum())
    n_parent_windows = int((n_w >= MIN_WINDOW_PEAKS).sum())
    judged_own = ref is not None and n_own_windows >= max(OWN_MIN_WINDOWS, OWN_MIN_WINDOW_SHARE * n_parent_windows)
    heard_own = float(p_hit[own_in].mean()) if own_in.any() else 0.0
    # chance for those very peaks (where the child has a voice of its own, its maxima are denser)
    own_chance = (float(np.mean([hits_at(pf[own_in], pb[own_in], cgrid, shift + s).mean() for s in CHANCE_SHIFTS]))
                  if own_in.any() else 0.0)
    own_heard = judged_own and heard_own >= max(OWN_MIN_HEARD, own_chance + OWN_ABOVE_CHANCE)
    # the same within a stitch's opening: a parent whose own material plays there must be heard there
    own_head = own_in & (pf + shift < head * WINDOW_FRAMES)
    head_own = float(p_hit[own_head].mean()) if own_head.sum() >= MIN_WINDOW_PEAKS * 2 else None
    head_own_missing = head_own is not None and head_own < max(OWN_MIN_HEARD, own_chance + OWN_ABOVE_CHANCE)
    duration_match = abs(child_dur_s - parent_dur_s) <= max(DUR_TOL_S, DUR_TOL_FRAC * parent_dur_s)
    in_head = inside_p & (pf + shift < head * WINDOW_FRAMES)
    head_rate = float(p_hit[in_head].mean()) if in_head.any() else 0.0
    c_in_head = inside_c & (cf < head * WINDOW_FRAMES)
    child_head_rate = float(c_hit[c_in_head].mean()) if c_in_head.any() else 0.0
    head_similarity = (2 * head_rate * child_head_rate / (head_rate + child_head_rate)
                       if head_rate + child_head_rate > 0 else 0.0)
    # a child that goes on playing the shared sound past the opening continues the sound, not the parent post
    sound_ends = child_sound_end_s is None or child_sound_end_s <= head_s + SOUND_END_TOL_S
    # the child turns away from the parent while the parent still plays (a child that outlasts the parent is
    # not one), within the platform's stitch length
    diverges = head_s <= min(HEAD_MAX_S, parent_dur_s - PARENT_GOES_ON_S)
    stitch = head_s >= HEAD_MIN_S and diverges and tail_s >= TAIL_MIN_S and tail_explained <= TAIL_MAX_EXPLAINED \
        and sound_ends and not head_own_missing
    # the whole parent, as long as it, with something new: consistent with a duet; claimed from the audio alone
    # only when the parent's own material is heard too (a parent that is just the sound is as well explained
    # by a reuse of the sound with a voice-over of its own)
    duet_like = cover >= DUET_MIN_COVER and duration_match and added >= DUET_MIN_ADDED and not stitch
    gain = own_gain(cf, cb, pgrid, shift, ref[0], ref[1], ref[2]) if ref is not None else None
    duet = duet_like and own_heard and gain is not None and gain >= OWN_GAIN_MIN and not parent_made_music
    explained = min(cover * min(parent_dur_s, child_dur_s), child_dur_s) if duet_like else head_s
    return PairAudio(shift_frames=int(shift), chance=round(chance, 4), head_s=round(head_s, 2),
                     tail_s=round(tail_s, 2), tail_explained=round(tail_explained, 3), cover=round(cover, 3),
                     parent_rate=round(parent_rate, 3), head_rate=round(head_rate, 3),
                     head_similarity=round(head_similarity, 3),
                     own_windows=n_own_windows if ref is not None else None,
                     heard_own=round(heard_own, 3) if judged_own else None, own_chance=round(own_chance, 3),
                     own_gain=None if gain is None else round(gain, 3),
                     head_own=None if head_own is None else round(head_own, 3),
                     added=round(added, 3), duration_match=bool(duration_match),
                     sound_end_s=None if child_sound_end_s is None else round(float(child_sound_end_s), 2),
                     parent_made_music=bool(parent_made_music),
                     explained_s=round(float(explained), 2), stitch=bool(stitch), duet_like=bool(duet_like),
                     duet=bool(duet))


def fit_score(pair: PairAudio, child_dur_s: float) -> float:
    """For choosing among candidate parents: the share of the child the parent accounts for (a duet of a stitch
    explains more than the stitch's own parent, which only explains the opening), plus the parent's own
    material heard in the child (the duetted post's voice; for a stitch, within the opening), half weighted.
    Posts that open alike and carry nothing of their own there tie: the most similar opening
    (`head_similarity`), then time, orders them (edges_link.sql)."""
    own = (pair.heard_own if pair.duet_like else pair.head_own) or 0.0
    return round(pair.explained_s / max(child_dur_s, 1e-6) + 0.5 * own, 4)


def verdict(pair: PairAudio) -> tuple[str | None, str | None]:
    """(fit, consistent): the relation the audio alone claims (stitch | duet | None), and the one it is
    consistent with (also a duet whose parent is just the sound), for grading captions and ids."""
    fit = "stitch" if pair.stitch else "duet" if pair.duet else None
    return fit, fit or ("duet" if pair.duet_like else None)
