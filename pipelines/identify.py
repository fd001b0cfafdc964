"""Identify the sounds inside one media file against the warehouse's sound index (`trendtrace identify`).

An analyst holding a clip (a download, a rip of a post, a track from a label's catalogue) asks which known
sounds it plays, where, at what speed, and where each sound started. The file goes through the same decode,
fingerprint, peaks, candidate lookups, verification and resolution rules as a post in match_sounds, one post
at a time (the index lookups take the ART path, docs/matching.md), and nothing is written.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, fields
from datetime import date, datetime
from pathlib import Path
from typing import Any

import duckdb
import numpy as np

from pipelines import warehouse
from pipelines.audio.chromaprint import raw_fingerprint
from pipelines.audio.decode import SAMPLE_RATE, decode_pcm
from pipelines.audio.peaks import peaks
from pipelines.matching import engine, store
from pipelines.matching.types import Query, Row

MAX_SECONDS = 1200.0  # as the fingerprint stage: the first 20 minutes of a longer file
# a file plays the part a post would: Row's post times are the file's (the one renaming between the two)
FILE_NAMES = {"post_start_s": "file_start_s", "post_end_s": "file_end_s"}
# identify's name -> Row field, for every Row field but sound_id (a HeardSound's own sound_id is the canonical one)
_ROW_FIELDS = {FILE_NAMES.get(f.name, f.name): f.name for f in fields(Row) if f.name != "sound_id"}


@dataclass(frozen=True, slots=True)
class HeardSound:
    """One sound heard in the file: which part of the file plays which part of the sound. The row fields (role,
    file_start_s / file_end_s, sound_start_s / sound_end_s, speed, score, method) are the match_sounds Row's,
    read through `heard`."""

    sound_id: str  # canonical (after merges)
    title: str | None
    origin_post_id: str | None
    first_seen_at: datetime | None
    n_posts: int | None
    heard: Row  # as match_sounds resolves a post (heard.sound_id: the sound as heard, before merges)

    def __getattr__(self, name: str) -> Any:
        if name not in _ROW_FIELDS:
            raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")
        return getattr(self.heard, _ROW_FIELDS[name])

    def as_dict(self) -> dict[str, Any]:
        """The sound's fields, then the row's under identify's names (`--json`)."""
        info = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "heard"}
        return info | {name: getattr(self.heard, field) for name, field in _ROW_FIELDS.items()}


@dataclass(frozen=True, slots=True)
class Identification:
    path: str
    duration_s: float
    outcome: str  # matched | no_known_sound | too_short
    detail: str
    sounds: list[HeardSound]

    def as_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name != "sounds"} | {
            "sounds": [h.as_dict() for h in self.sounds]}


class IndexNotReady(Exception):
    """The warehouse has no sound index, or one that match_sounds has not brought up to date since an upgrade."""


def identify_file(con: duckdb.DuckDBPyConnection, path: Path) -> Identification:
    """The sounds of the index heard in `path` (DecodeError if it has no decodable audio, IndexNotReady if the
    index cannot answer). Read-only on `con`."""
    try:
        missing = store.missing_candidate_index(con)
    except duckdb.CatalogException as exc:
        raise IndexNotReady("this warehouse has no sound index yet: run the pipeline for a day "
                            "(`trendtrace run --date YYYY-MM-DD`), which builds it") from exc
    if missing:
        raise IndexNotReady(f"{len(missing)} indexed audios lack the landmark candidate index (a warehouse built "
                            "before it existed): run `trendtrace init`, whose schema migrations add them")
    pcm = decode_pcm(path, max_seconds=MAX_SECONDS)
    frames, bins = peaks(pcm)
    with open(path, "rb") as fh:  # streamed: a 20-minute video is not read into memory at once
        digest = hashlib.file_digest(fh, "sha256").hexdigest()
    query = Query(0, digest, pcm.size / SAMPLE_RATE, raw_fingerprint(pcm), frames.astype(np.int32),
                  bins.astype(np.int32), media=Path(path))
    found = engine.match_chunk(con, [query], recent_of=engine.recent_sounds(con, None))[0]
    resolver = engine.resolver_as_of(con, date.max)  # every sound indexed so far
    res = resolver.resolve(query, f"file:{Path(path).name}", datetime.max, found)
    if res.outcome != "matched":
        outcome = "too_short" if res.outcome == "too_short" else "no_known_sound"
        detail = res.detail if outcome == "too_short" else "no sound of the index is heard in this file"
        return Identification(str(path), query.duration_s, outcome, detail, [])
    canon = {r.sound_id: resolver.canonical(r.sound_id) for r in res.rows}
    rows = warehouse.fetch_rows(con, "identify/sounds_info", {"ids": sorted(set(canon.values()))})
    info = {row[0]: row[1:] for row in rows}
    sounds = []
    for r in res.rows:
        title, origin, first_seen, n_posts = info.get(canon[r.sound_id], (None, None, None, None))
        sounds.append(HeardSound(canon[r.sound_id], title, origin, first_seen, n_posts, r))
    return Identification(str(path), query.duration_s, "matched", res.detail, sounds)
