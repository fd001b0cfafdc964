"""CSV exports (post_id,created_at,author,caption,music_id,music_title,media_path) -> CanonicalPost."""

from __future__ import annotations

import csv

from pipelines.ingest.common import (
    FieldCollector,
    caption_hashtags,
    caption_mentions,
    parse_id,
    parse_name,
    parse_timestamp,
    where,
)
from pipelines.records import CanonicalPost, RecordProblem, SchemaDriftError

FORMAT = "csv_export"
# Longest field a row may hold (characters); longer is bad_csv_row naming the field (often an unclosed quote
# that swallowed the rest of the file). Python's csv module stops at 128 KiB by default without saying which
# field: it is given the whole file's length instead, and this limit is checked here.
MAX_FIELD_CHARS = 16 * 1024 * 1024
COLUMNS = ("post_id", "created_at", "author", "caption", "music_id", "music_title", "media_path")


def physical_lines(text: str) -> list[str]:
    """Lines with their endings, split on "\\n" only, so numbering matches what an editor shows."""
    parts = text.split("\n")
    lines = [part + "\n" for part in parts[:-1]]
    if parts[-1]:
        lines.append(parts[-1])
    return lines


def header_of(text: str) -> list[str] | None:
    """The normalised header (stripped, lower-cased) of a CSV text, None when it cannot be read."""
    try:
        row = next(csv.reader(physical_lines(text)), None)
    except csv.Error:
        return None
    return [name.strip().lower() for name in row] if row else None


def read_csv(text: str, source_file: str) -> tuple[list[CanonicalPost], list[RecordProblem]]:
    """Map every row; raises SchemaDriftError when a header column is missing.

    source_line is the row's first physical line (header = line 1), also for quoted multi-line fields.
    """
    previous_limit = csv.field_size_limit(max(len(text) + 1, csv.field_size_limit()))
    try:
        return _read_rows(text, source_file)
    finally:
        csv.field_size_limit(previous_limit)


def _read_rows(text: str, source_file: str) -> tuple[list[CanonicalPost], list[RecordProblem]]:
    lines = physical_lines(text)
    reader = csv.reader(lines)
    header = [name.strip().lower() for name in next(reader, [])]
    for column in COLUMNS:
        if column not in header:
            raise SchemaDriftError(source_file, column, FORMAT)
    position = {column: header.index(column) for column in COLUMNS}
    posts: list[CanonicalPost] = []
    problems: list[RecordProblem] = []
    last_line = reader.line_num
    index = 0
    while True:
        error: str | None = None
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            row, error = [], f"unreadable CSV row: {exc}"
        start, last_line = last_line + 1, reader.line_num
        raw = "".join(lines[start - 1 : last_line]).rstrip("\r\n")
        if error is None and (not row or (len(row) == 1 and not row[0].strip())):
            continue  # blank line
        if error is None and len(row) != len(header):
            error = f"expected {len(header)} fields as in the header, got {len(row)}"
        field = None
        if error is None:
            oversized = [(i, len(cell)) for i, cell in enumerate(row) if len(cell) > MAX_FIELD_CHARS]
            if oversized:
                i, size = oversized[0]
                field = header[i] or f"column {i + 1}"
                error = (f"field {field!r} (column {i + 1}) holds {size:,} characters, over the {MAX_FIELD_CHARS:,} "
                         "character limit (an unclosed quote?)")
        if error is not None:
            problems.append(
                RecordProblem(
                    source_file=source_file,
                    source_line=start,
                    source_record=index,
                    field=field,
                    rule="bad_csv_row",
                    reason=f"{where(source_file, start, index)}: {error}",
                    raw=raw,
                    source_format=FORMAT,
                )
            )
        else:
            result = _to_post({c: row[i] for c, i in position.items()}, source_file, start, index, raw)
            if isinstance(result, CanonicalPost):
                posts.append(result)
            else:
                problems.append(result)
        index += 1
    return posts, problems


def _cell(value: str) -> str | None:
    return value if value.strip() else None


def _to_post(
    cells: dict[str, str], source_file: str, line: int, index: int, raw: str
) -> CanonicalPost | RecordProblem:
    c = FieldCollector()
    post_id = c.take("post_id", parse_id, cells["post_id"])
    music_id = c.take("music_id", parse_id, cells["music_id"])
    if c.errors:
        return c.problem(source_file, line, index, raw, post_id, FORMAT)
    created_at, created_raw = parse_timestamp(cells["created_at"])
    caption = _cell(cells["caption"])
    return CanonicalPost(
        post_id=post_id,
        author=parse_name(cells["author"]),
        created_at=created_at,
        created_at_raw=created_raw,
        caption=caption,
        platform_music_id=music_id,
        music_title=_cell(cells["music_title"]),
        music_original=None,
        duet_from_post_id=None,
        mentions=caption_mentions(caption),
        hashtags=caption_hashtags(caption),
        media_path=_cell(cells["media_path"]),
        source_format=FORMAT,
        source_file=source_file,
        source_line=line,
        source_record=index,
        raw=raw,
    )
