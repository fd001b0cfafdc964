"""Export adapters: read a landing partition `<landing>/dt=YYYY-MM-DD/` into CanonicalPosts and problems.

Every export file is detected and read on its own, so one bad file never hides the good ones; a whole
missing column (schema drift) raises instead, because it means the export or the adapter must change.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path, PurePath

from pipelines.ingest import csv_export, research_api, tiktok_web
from pipelines.ingest.detect import decode, detect
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
    problems.sort(key=lambda p: (p.source_record is not None, p.source_record or 0))
    return ExportReadResult(source_file, found.source_format, posts, problems)


def read_partition(partition_dir: Path) -> list[ExportReadResult]:
    """Every export file of the partition, in name order."""
    return [read_export(partition_dir, name) for name in list_export_files(partition_dir)]
