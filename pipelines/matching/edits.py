"""Which edit of a sound a post plays, from what the matcher measured (pure): post_sounds.pitch_semitones and edit.

A match knows two factors of the post relative to the sound it heard: `speed` (sound seconds per post second,
the time axis) and `pitch` (post frequency / sound frequency). How they relate names the edit users make:
resampled ("nightcore", "slowed": both by one factor), time-stretched (tempo only), key-shifted (pitch only), or
two changes chained. Anything else done to the audio (reverb, EQ, a phone's speaker, a low bitrate) leaves both
factors at 1 and is not in what the matcher keeps: such a copy is `as_posted` (docs/matching.md, "Which edit was
heard").
"""

from __future__ import annotations

import math

UNCHANGED = 0.01  # a factor within 1 % of 1 (and of each other, for "together") counts as unchanged / equal
ORIGIN_METHODS = ("origin", "identical_file")  # the sound's own audio: no edit relative to itself
PRESENCE_METHOD = "landmarks_presence"
EDITS = ("original", "as_posted", "under_voice", "sped_up", "slowed", "tempo_up", "tempo_down", "pitch_up",
         "pitch_down", "speed_and_pitch")


def semitones(pitch: float | None) -> float | None:
    """12 x log2 of a frequency ratio, to 0.01 semitone (None: the pitch factor is unknown)."""
    if pitch is None:
        return None
    return round(12.0 * math.log2(pitch), 2) + 0.0  # + 0.0: never -0.0


def _same(a: float, b: float) -> bool:
    return abs(math.log(a / b)) < UNCHANGED


def edit_of(speed: float, pitch: float | None, method: str) -> str | None:
    """The edit label of a post_sounds row (one of EDITS), None when the pitch factor is unknown (a match through a
    copy indexed before the pitch was kept)."""
    if method in ORIGIN_METHODS:
        return "original"
    if pitch is None:
        return None
    tempo_kept, pitch_kept = _same(speed, 1.0), _same(pitch, 1.0)
    if tempo_kept and pitch_kept:
        return "under_voice" if method == PRESENCE_METHOD else "as_posted"
    if pitch_kept:
        return "tempo_up" if speed > 1.0 else "tempo_down"
    if tempo_kept:
        return "pitch_up" if pitch > 1.0 else "pitch_down"
    if _same(speed, pitch):
        return "sped_up" if speed > 1.0 else "slowed"
    return "speed_and_pitch"
