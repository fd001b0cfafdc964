"""polars frames with the warehouse's column types, built from the records stages produce.

Stages hand DuckDB whole frames (one INSERT … SELECT per table and day), never rows one by one.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime

import polars as pl

from pipelines.records import CanonicalPost, RecordProblem

STG_POSTS_SCHEMA: dict[str, pl.DataType] = {
    "ingest_day": pl.Date(),
    "source_file": pl.String(),
    "source_format": pl.String(),
    "source_line": pl.Int32(),
    "source_record": pl.Int32(),
    "post_id": pl.String(),
    "author": pl.String(),
    "created_at": pl.Datetime("us"),
    "created_at_raw": pl.String(),
    "caption": pl.String(),
    "platform_music_id": pl.String(),
    "music_title": pl.String(),
    "music_original": pl.Boolean(),
    "duet_from_post_id": pl.String(),
    "mentions": pl.List(pl.String()),
    "hashtags": pl.List(pl.String()),
    "plays": pl.Int64(),
    "likes": pl.Int64(),
    "shares": pl.Int64(),
    "comments": pl.Int64(),
    "duration_s": pl.Float64(),
    "media_path": pl.String(),
    "raw": pl.String(),
}

VIOLATION = pl.Struct({"rule": pl.String(), "field": pl.String(), "reason": pl.String()})
QUARANTINE_SCHEMA: dict[str, pl.DataType] = {
    "ingest_day": pl.Date(),
    "stage": pl.String(),
    "source_file": pl.String(),
    "source_format": pl.String(),
    "source_line": pl.Int32(),
    "source_record": pl.Int32(),
    "post_id": pl.String(),
    "field": pl.String(),
    "rule": pl.String(),
    "reason": pl.String(),
    "violations": pl.List(VIOLATION),
    "raw": pl.String(),
    "quarantined_at": pl.Datetime("us"),
}


def utc_naive(value: datetime | None) -> datetime | None:
    """DuckDB TIMESTAMP columns hold naive UTC."""
    if value is None:
        return None
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return value


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def stg_posts_frame(day: date, posts: Sequence[CanonicalPost]) -> pl.DataFrame:
    columns: dict[str, list] = {name: [] for name in STG_POSTS_SCHEMA}
    for p in posts:
        for name in STG_POSTS_SCHEMA:
            if name == "ingest_day":
                columns[name].append(day)
            elif name == "created_at":
                columns[name].append(utc_naive(p.created_at))
            else:
                columns[name].append(getattr(p, name))
    return pl.DataFrame(columns, schema=STG_POSTS_SCHEMA)


def problems_frame(day: date, stage: str, problems: Sequence[RecordProblem]) -> pl.DataFrame:
    now = utcnow()
    rows = [
        {
            "ingest_day": day,
            "stage": stage,
            "source_file": p.source_file,
            "source_format": p.source_format,
            "source_line": p.source_line,
            "source_record": p.source_record,
            "post_id": p.post_id,
            "field": p.field,
            "rule": p.rule,
            "reason": p.reason,
            "violations": [{"rule": p.rule, "field": p.field, "reason": p.reason}],
            "raw": p.raw,
            "quarantined_at": now,
        }
        for p in problems
    ]
    return pl.DataFrame(rows, schema=QUARANTINE_SCHEMA)
