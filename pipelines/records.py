"""The canonical record every export adapter produces, and the problems it reports.

Adapters (`pipelines.ingest.*`) turn TikTok web JSON, Research API JSON and CSV exports into one shape so
that validation, fingerprinting and everything after never look at a platform format again.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

SOURCE_FORMATS = (
    "tiktok_web", "research_api", "csv_export", "research_api_early", "zeeschuimer_ndjson", "ytdlp_info_json",
    "apify_json", "apify_csv", "fourcat_csv", "zeeschuimer_csv",
)
# Formats whose records carry no author at all (the Research API's early shape has no `username`): their posts
# load with author NULL, and count for posts but not for creators (creator counts are a lower bound there).
FORMATS_WITHOUT_AUTHOR = frozenset({"research_api_early"})


@dataclass(slots=True)
class CanonicalPost:
    """One post as read from one export record. Ids are strings (TikTok ids exceed 2^53)."""

    post_id: str | None
    author: str | None
    created_at: datetime | None  # timezone-aware UTC, None when it did not parse
    created_at_raw: str | None  # the value as it stood in the export, for quarantine reasons
    caption: str | None
    platform_music_id: str | None
    music_title: str | None
    music_original: bool | None
    duet_from_post_id: str | None  # None when not a duet ("0" in web JSON means "not a duet")
    mentions: list[str] = field(default_factory=list)  # user names, without "@", in caption order
    hashtags: list[str] = field(default_factory=list)  # without "#", lower-cased, in caption order
    plays: int | None = None
    likes: int | None = None
    shares: int | None = None
    comments: int | None = None
    duration_s: float | None = None  # the platform's declared video duration
    media_path: str | None = None  # as declared by the record, relative to the partition folder
    source_format: str = ""  # one of SOURCE_FORMATS
    source_file: str = ""  # path relative to the partition folder
    source_line: int | None = None  # 1-based line in the file (JSON lines, CSV, pretty JSON arrays)
    source_record: int = 0  # 0-based index of the record in the file
    raw: str = ""  # the record's original text (JSON or CSV line), kept so nothing is lost


@dataclass(slots=True)
class RecordProblem:
    """A record (or a whole file) that could not become a CanonicalPost; it goes to quarantine."""

    source_file: str
    source_line: int | None
    source_record: int | None
    field: str | None  # the offending field, None when the whole record/file is unreadable
    rule: str  # machine-readable rule name, e.g. "malformed_json", "unknown_format", "bad_id"
    reason: str  # human-readable: says file, line and field
    raw: str  # the record's original text in full (a whole unreadable file: its first 1 MiB)
    post_id: str | None = None
    source_format: str | None = None


class SchemaDriftError(Exception):
    """A field the format needs is missing from every record of an export file; read_export turns it into one
    `schema_drift` quarantine row per record (naming the file, field and format) and the partition loads."""

    def __init__(self, source_file: str, column: str, source_format: str):
        self.source_file = source_file
        self.column = column
        self.source_format = source_format
        super().__init__(
            f"schema drift in {source_file}: column {column!r} is missing from every record "
            f"(format {source_format}); fix the export or the adapter before rerunning this day"
        )
