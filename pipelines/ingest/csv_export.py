"""Our own CSV export (post_id,created_at,author,caption,music_id,music_title,media_path) -> CanonicalPost."""

from __future__ import annotations

from pipelines.ingest import csv_rows
from pipelines.ingest.common import (
    FieldCollector,
    caption_hashtags,
    caption_mentions,
    parse_id,
    parse_name,
    parse_timestamp,
)
from pipelines.ingest.csv_rows import CsvRow, cell, header_of, physical_lines  # noqa: F401 (re-exported)
from pipelines.records import CanonicalPost, RecordProblem

FORMAT = "csv_export"
# Longest field a row may hold (characters); see csv_rows.MAX_FIELD_CHARS.
MAX_FIELD_CHARS = csv_rows.MAX_FIELD_CHARS
COLUMNS = ("post_id", "created_at", "author", "caption", "music_id", "music_title", "media_path")


def read_csv(text: str, source_file: str) -> tuple[list[CanonicalPost], list[RecordProblem]]:
    """Map every row; raises SchemaDriftError when a header column is missing."""
    csv_rows.require(header_of(text) or [], COLUMNS, source_file, FORMAT)
    return csv_rows.map_rows(text, source_file, FORMAT, ",", lambda row: _to_post(row, source_file),
                             max_field=MAX_FIELD_CHARS)


def _to_post(row: CsvRow, source_file: str) -> CanonicalPost | RecordProblem:
    cells = row.cells
    c = FieldCollector()
    post_id = c.take("post_id", parse_id, cells["post_id"])
    music_id = c.take("music_id", parse_id, cells["music_id"])
    if c.errors:
        return c.problem(source_file, row.line, row.index, row.raw, post_id, FORMAT)
    created_at, created_raw = parse_timestamp(cells["created_at"])
    caption = cell(cells["caption"])
    return CanonicalPost(
        post_id=post_id,
        author=parse_name(cells["author"]),
        created_at=created_at,
        created_at_raw=created_raw,
        caption=caption,
        platform_music_id=music_id,
        music_title=cell(cells["music_title"]),
        music_original=None,
        duet_from_post_id=None,
        mentions=caption_mentions(caption),
        hashtags=caption_hashtags(caption),
        media_path=cell(cells["media_path"]),
        source_format=FORMAT,
        source_file=source_file,
        source_line=row.line,
        source_record=row.index,
        raw=row.raw,
    )
