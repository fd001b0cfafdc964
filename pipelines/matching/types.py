"""The matching's data: what a query is, what a match says, how a post resolves, and the rows the stage writes.

Plain data, no I/O. The rows of the tables match_sounds writes (`PostSound`, `NewSound`, `SoundMerge`,
`MatchOutcome`) are the one Python definition of those tables: their frames are derived from these fields
(pipelines/matching/tables.py) and a test checks them against the DDL in sql/schema/core/.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np

from pipelines.matching.edits import edit_of, semitones
from pipelines.matching.landmarks import pair_hashes

# how an indexed copy of a sound plays it: (second in the copy, second in the sound, sound seconds per copy second,
# copy frequency / sound frequency: None for a copy indexed before the pitch factor was kept)
Via = tuple[float, float, float, float | None]


@dataclass(slots=True)
class Query:
    """One distinct audio to identify (a post's file, or a file given to `trendtrace identify`)."""

    qid: int  # its position in the day (or merge pass): a reference to it within a chunk is -1 - qid
    audio_sha256: str
    duration_s: float
    fingerprint: np.ndarray  # uint32 Chromaprint items
    peak_frames: np.ndarray
    peak_bins: np.ndarray
    media: Path | None = None  # the media file, decoded again only for the peak-presence test
    _marks: tuple[np.ndarray, np.ndarray] | None = field(default=None, init=False, repr=False, compare=False)
    # keys computed from its peaks by pipelines/matching/analyse.py (the speed presets'), kept so the end-of-day
    # merge pass does not key the same file again; shared by with_qid copies
    keyed: dict = field(default_factory=dict, init=False, repr=False, compare=False)

    @property
    def marks(self) -> tuple[np.ndarray, np.ndarray]:
        """Its landmark pairs (hash, anchor frame) as posted, computed once."""
        if self._marks is None:
            self._marks = pair_hashes(self.peak_frames, self.peak_bins)
        return self._marks

    def with_qid(self, qid: int) -> Query:
        """The same audio under another qid (the merge pass queries a day's files again in chunks of its own),
        sharing the landmark pairs already computed."""
        copy = replace(self, qid=qid)
        copy._marks = self._marks
        copy.keyed = self.keyed
        return copy


@dataclass(frozen=True, slots=True)
class Match:
    """Post part [post_start_s, post_end_s] plays reference part [ref_start_s, ref_end_s] at `speed` (reference
    seconds per post second) and `pitch` (post frequency / reference frequency: 1.25 for a copy resampled up by
    1.25, "nightcore"; 1.0 when the pitch was kept; None when unknown, through a copy indexed before it was kept).

    References are indexed audio (ref = match_audio.audio_id >= 0) and the chunk's earlier queries
    (ref = -1 - qid)."""

    qid: int
    ref: int
    post_start_s: float
    post_end_s: float
    ref_start_s: float
    ref_end_s: float
    speed: float
    pitch: float | None
    score: float
    method: str  # chromaprint | landmarks | landmarks_speed_pitch / _tempo / _key / _estimated | landmarks_presence


@dataclass(frozen=True, slots=True)
class Span:
    """One verified Chromaprint stretch: query items [q_start, q_end) match reference items [q_start+offset, ...)."""

    q_start: int
    q_end: int
    offset: int  # reference position = query position + offset
    ber: float

    @property
    def items(self) -> int:
        return self.q_end - self.q_start

    @property
    def score(self) -> float:
        """1 for identical items, 0 for chance level (BER 0.5)."""
        return max(0.0, 1.0 - 2.0 * self.ber)


@dataclass(frozen=True, slots=True)
class NewIndexAudio:
    """An audio joining the index: a new sound's own audio, or a copy of a sound heard only at another speed."""

    audio_id: int
    audio_sha256: str
    sound_id: str
    n_items: int
    peak_frames: np.ndarray
    peak_bins: np.ndarray
    via: Via | None = None  # a copy of the sound (not its own audio): how it plays the sound


@dataclass(frozen=True, slots=True)
class Row:
    """One sound heard in one audio, as resolution decides it (copied to every post carrying the audio)."""

    sound_id: str  # matched sound (pre-merge); the canonical one is derived in SQL
    role: str  # primary | contained
    post_start_s: float
    post_end_s: float
    sound_start_s: float
    sound_end_s: float
    speed: float
    pitch: float | None  # post frequency / sound frequency (Match.pitch)
    score: float
    method: str


@dataclass(frozen=True, slots=True)
class Merge:
    """One sound found to be another (later origin into earlier), and the post that showed it."""

    sound_id: str
    into_sound_id: str
    via_post_id: str
    score: float
    method: str
    reason: str


@dataclass(slots=True)
class Resolution:
    """What one audio is: its outcome, the rows of the sounds heard in it, a new sound, merges it showed."""

    outcome: str  # matched | new_sound | too_short
    detail: str
    rows: list[Row] = field(default_factory=list)
    new_sound_id: str | None = None
    merges: list[Merge] = field(default_factory=list)
    # a primary sound heard only at another speed: the post's audio joins the index as a
    # copy of that sound, (sound id, Via), so a later copy of this post is heard plainly through it
    index_as_copy: tuple[str, Via] | None = None


def _fields_of(row: Any) -> dict[str, Any]:
    """A dataclass's fields by name (shallow: no copies, unlike dataclasses.asdict)."""
    return {f.name: getattr(row, f.name) for f in fields(row)}


# The rows match_sounds writes, one type per table (columns by name, in any order).


@dataclass(frozen=True, slots=True)
class PostSound:
    """A post_sounds row: a resolution Row on one post of the day, its pitch factor as semitones and the edit it
    names (pipelines/matching/edits.py). `sound_id` is written as heard (= matched_sound_id);
    sql/match_sounds/refresh_sounds.sql makes it canonical."""

    post_id: str
    sound_id: str
    role: str
    post_start_s: float
    post_end_s: float
    sound_start_s: float
    sound_end_s: float
    speed: float
    pitch_semitones: float | None
    edit: str | None
    score: float
    method: str
    matched_sound_id: str
    ingest_day: date

    @classmethod
    def of(cls, row: Row, post_id: str, method: str, day: date) -> PostSound:
        heard = _fields_of(row)
        pitch = heard.pop("pitch")
        return cls(**(heard | {"method": method}), post_id=post_id, pitch_semitones=semitones(pitch),
                   edit=edit_of(row.speed, pitch, method), matched_sound_id=row.sound_id, ingest_day=day)


@dataclass(frozen=True, slots=True)
class NewSound:
    """A sound created by the day: the sounds columns the stage knows; origin, title and counts follow in SQL
    (sql/match_sounds/insert_results.sql, refresh_sounds.sql)."""

    sound_id: str
    created_post_id: str
    audio_sha256: str
    duration_s: float
    created_day: date


@dataclass(frozen=True, slots=True)
class SoundMerge(Merge):
    """A sound_merges row: a Merge recorded by the day's run."""

    day: date

    @classmethod
    def of(cls, merge: Merge, day: date) -> SoundMerge:
        return cls(**_fields_of(merge), day=day)


@dataclass(frozen=True, slots=True)
class MatchOutcome:
    """A post_match_outcomes row: what matching concluded for one post."""

    post_id: str
    outcome: str  # matched | new_sound | too_short
    detail: str
    ingest_day: date


@dataclass(slots=True)
class FirstPass:
    """The first pass's result over some of a day's files (engine.match_against_index), by audio_sha256: each
    file's matches against the index as it was before the day, and the files it `deferred` (an earlier file of the
    day plays them as posted: their speed steps wait for the second pass, pipelines/matching/earlier_files.py)."""

    matches: dict[str, list[Match]] = field(default_factory=dict)
    deferred: set[str] = field(default_factory=set)

    def update(self, other: FirstPass) -> None:
        """Add another shard's result."""
        self.matches.update(other.matches)
        self.deferred |= other.deferred


@dataclass(slots=True)
class DayMatches:
    """Everything one day's matching produced, as the rows of the tables the stage writes."""

    day: date
    files: int  # distinct audio files of the day's posts (0: nothing to match)
    post_sounds: list[PostSound] = field(default_factory=list)
    sounds: list[NewSound] = field(default_factory=list)
    merges: list[SoundMerge] = field(default_factory=list)
    outcomes: list[MatchOutcome] = field(default_factory=list)
