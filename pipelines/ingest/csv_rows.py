"""CSV rows with their physical line, record index and original text, for every CSV-based adapter.

Tools differ in the delimiter (4CAT writes `,`, Zeeschuimer `;`) and in the columns, not in how a row is
located or how a broken row is reported, so that lives here once.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from pipelines.ingest.common import where
from pipelines.records import CanonicalPost, RecordProblem, SchemaDriftError

CSV_DELIMITERS = (",", ";", "\t")
# Longest field a row may hold (characters); longer is bad_csv_row naming the field (often an unclosed quote
# that swallowed the rest of the file). Python's csv module stops at 128 KiB by default without saying which
# field: it is given the whole file's length instead, and this limit is checked here.
MAX_FIELD_CHARS = 16 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class CsvRow:
    """One data row: cells by (normalised) header name, where it starts, and its original text."""

    cells: dict[str, str]
    line: int
    index: int
    raw: str


def physical_lines(text: str) -> list[str]:
    """Lines with their endings, split on "\\n" only, so numbering matches what an editor shows."""
    parts = text.split("\n")
    lines = [part + "\n" for part in parts[:-1]]
    if parts[-1]:
        lines.append(parts[-1])
    return lines


def header_of(text: str, delimiter: str = ",") -> list[str] | None:
    """The normalised header (stripped, lower-cased) of a CSV text, None when it cannot be read."""
    try:
        row = next(csv.reader(physical_lines(text), delimiter=delimiter), None)
    except csv.Error:
        return None
    return [name.strip().lower() for name in row] if row else None


def require(header: list[str], columns: tuple[str, ...], source_file: str, fmt: str) -> None:
    """SchemaDriftError naming the first required column the header lacks."""
    for column in columns:
        if column not in header:
            raise SchemaDriftError(source_file, column, fmt)


def rows(
    text: str, source_file: str, fmt: str, delimiter: str = ",", max_field: int | None = None
) -> Iterator[CsvRow | RecordProblem]:
    """Every data row (blank lines skipped) or a `bad_csv_row` problem; source_line is the row's first
    physical line (header = line 1), also for quoted multi-line fields."""
    limit = MAX_FIELD_CHARS if max_field is None else max_field
    previous_limit = csv.field_size_limit(max(len(text) + 1, csv.field_size_limit()))
    try:
        lines = physical_lines(text)
        reader = csv.reader(lines, delimiter=delimiter)
        header = [name.strip().lower() for name in next(reader, [])]
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
                oversized = [(i, len(cell)) for i, cell in enumerate(row) if len(cell) > limit]
                if oversized:
                    i, size = oversized[0]
                    field = header[i] or f"column {i + 1}"
                    error = (f"field {field!r} (column {i + 1}) holds {size:,} characters, over the {limit:,} "
                             "character limit (an unclosed quote?)")
            if error is not None:
                yield RecordProblem(
                    source_file=source_file, source_line=start, source_record=index, field=field,
                    rule="bad_csv_row", reason=f"{where(source_file, start, index)}: {error}", raw=raw,
                    source_format=fmt,
                )
            else:
                yield CsvRow(dict(zip(header, row, strict=True)), start, index, raw)
            index += 1
    finally:
        csv.field_size_limit(previous_limit)


def map_rows(
    text: str, source_file: str, fmt: str, delimiter: str, to_post: Callable[[CsvRow], CanonicalPost | RecordProblem],
    max_field: int | None = None,
) -> tuple[list[CanonicalPost], list[RecordProblem]]:
    posts: list[CanonicalPost] = []
    problems: list[RecordProblem] = []
    for item in rows(text, source_file, fmt, delimiter, max_field):
        result = to_post(item) if isinstance(item, CsvRow) else item
        (posts if isinstance(result, CanonicalPost) else problems).append(result)
    return posts, problems


def cell(value: str | None) -> str | None:
    """An empty or blank cell is missing."""
    return value if value is not None and value.strip() else None
