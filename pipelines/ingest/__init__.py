"""Export adapters: read a landing partition `<landing>/dt=YYYY-MM-DD/` into CanonicalPosts and problems.

Every export file is detected and read on its own, so one bad file never hides the good ones; a whole
missing column (schema drift) raises instead, because it means the export or the adapter must change.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path, PurePath

from pipelines.ingest import csv_export, research_api, tiktok_web
from pipelines.ingest.common import file_raw, where
from pipelines.ingest.detect import decode, detect, first_bad_byte, has_bad_bytes, printable
from pipelines.records import CanonicalPost, RecordProblem

MEDIA_DIR = "media"

__all__ = ["ExportReadResult", "list_export_files", "read_export", "read_partition"]


@dataclass
class ExportReadResult:
    """What one export file yielded: its posts and the problems that go to quarantine."""

    source_file: str  # relative to the partition folder, '/'-separated
    source_format: str | None  # one of records.SOURCE_FORMATS, None if unknown/unreadable
    posts: list[CanonicalPost]
    problems: list[RecordProblem]


def list_export_files(partition_dir: Path) -> list[str]:
    """Export files at the partition's top level, sorted; skips the media/ folder, sub-folders and dotfiles."""
    return sorted(
        entry.name
        for entry in Path(partition_dir).iterdir()
        if entry.is_file() and not entry.name.startswith(".") and entry.name != MEDIA_DIR
    )


def read_export(partition_dir: Path, rel_path: str) -> ExportReadResult:
    """Read one export file. Raises SchemaDriftError on a missing column and OSError if it cannot be read."""
    source_file = PurePath(rel_path).as_posix()
    text = decode((Path(partition_dir) / rel_path).read_bytes(), source_file)
    if isinstance(text, RecordProblem):
        return ExportReadResult(source_file, None, [], [text])
    found = detect(text, source_file)
    posts: list[CanonicalPost] = []
    problems = list(found.problems)
    if found.source_format == csv_export.FORMAT:
        posts, more = csv_export.read_csv(text, source_file)
        problems += more
    elif found.source_format == tiktok_web.FORMAT:
        posts, more = tiktok_web.read_records(found.records, source_file)
        problems += more
    elif found.source_format == research_api.FORMAT:
        posts, more = research_api.read_records(found.records, source_file)
        problems += more
    if has_bad_bytes(text):
        posts, problems = _quarantine_bad_bytes(text, found.source_format, posts, problems, source_file)
    problems.sort(key=lambda p: (p.source_record is not None, p.source_record or 0))
    return ExportReadResult(source_file, found.source_format, posts, problems)


def _quarantine_bad_bytes(
    text: str, fmt: str | None, posts: list[CanonicalPost], problems: list[RecordProblem], source_file: str
) -> tuple[list[CanonicalPost], list[RecordProblem]]:
    """Only the records holding a byte that is not UTF-8 go to quarantine (`bad_encoding`), the others load.

    A file whose container could not be read at all (an unknown format, a JSON document broken by the byte)
    stays one file-level `bad_encoding` problem, naming the first bad byte's line and column.
    """
    if fmt is None:
        line, column, byte = first_bad_byte(text) or (None, None, 0)
        problem = RecordProblem(
            source_file=source_file, source_line=line, source_record=None, field=None, rule="bad_encoding",
            reason=f"{source_file}: not UTF-8 (byte 0x{byte:02x} at line {line} column {column}) and not readable "
                   "as any export format around it",
            raw=file_raw(printable(text)),
        )
        return [], [problem]
    kept: list[CanonicalPost] = []
    found: list[RecordProblem] = []
    for post in posts:
        if not has_bad_bytes(post.raw):
            kept.append(post)
            continue
        line, column, byte = first_bad_byte(post.raw)
        at_line = (post.source_line or 1) + line - 1
        found.append(RecordProblem(
            source_file=source_file, source_line=post.source_line, source_record=post.source_record, field=None,
            rule="bad_encoding",
            reason=f"{where(source_file, post.source_line, post.source_record)}: not UTF-8 (byte 0x{byte:02x} at "
                   f"line {at_line} column {column}); the file's other records are read",
            raw=printable(post.raw),
            post_id=None if post.post_id is None else printable(post.post_id),
            source_format=fmt,
        ))
    for problem in problems:  # a malformed line may hold a bad byte too: stored readable, rule unchanged
        problem.raw = printable(problem.raw)
        problem.reason = printable(problem.reason)
        problem.post_id = None if problem.post_id is None else printable(problem.post_id)
        problem.field = None if problem.field is None else printable(problem.field)
    return kept, problems + found


def read_partition(partition_dir: Path) -> list[ExportReadResult]:
    """Every export file of the partition, in name order."""
    return [read_export(partition_dir, name) for name in list_export_files(partition_dir)]
