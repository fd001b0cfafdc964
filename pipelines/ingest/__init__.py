"""Export adapters: read a landing partition `<landing>/dt=YYYY-MM-DD/` into CanonicalPosts and problems.

Every export file is detected (pipelines.ingest.registry: exactly one format's signature must accept it) and
read on its own, so one bad file never hides the good ones; a field missing from a whole file (schema drift)
quarantines that file's records and the rest of the partition loads.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path, PurePath

from pipelines.ingest import registry
from pipelines.ingest.common import file_raw, where
from pipelines.ingest.detect import decode, detect, first_bad_byte, has_bad_bytes, printable
from pipelines.media_paths import PartitionFiles, looks_like_media, orphan_media
from pipelines.records import CanonicalPost, RecordProblem, SchemaDriftError

MEDIA_DIR = "media"

__all__ = [
    "ExportReadResult", "PartitionRead", "list_export_files", "read_export", "read_partition",
    "read_partition_with_media",
]


@dataclass
class ExportReadResult:
    """What one export file yielded: its posts and the problems that go to quarantine."""

    source_file: str  # relative to the partition folder, '/'-separated
    source_format: str | None  # one of records.SOURCE_FORMATS, None if unknown/unreadable
    posts: list[CanonicalPost]
    problems: list[RecordProblem]
    drift: SchemaDriftError | None = None  # set when the file's records went to quarantine as schema_drift


def _media_extensions() -> tuple[str, ...]:
    from pipelines import settings

    return settings.contract_settings().media_extensions


def list_export_files(partition_dir: Path, extensions: tuple[str, ...] | None = None) -> list[str]:
    """Export files at the partition's top level, sorted; skips the media/ folder, sub-folders, dotfiles, the
    completion marker (`_SUCCESS`) and media files (by extension or first bytes: yt-dlp and Apify put videos
    beside their metadata)."""
    from pipelines.settings import COMPLETION_MARKER

    exts = _media_extensions() if extensions is None else extensions
    return sorted(
        entry.name
        for entry in Path(partition_dir).iterdir()
        if entry.is_file() and not entry.name.startswith(".") and entry.name not in (MEDIA_DIR, COMPLETION_MARKER)
        and not looks_like_media(entry, exts)
    )


def read_export(partition_dir: Path, rel_path: str, files: PartitionFiles | None = None) -> ExportReadResult:
    """Read one export file (OSError if it cannot be read). A field the format needs missing from every
    record (schema drift) quarantines each of the file's records as `schema_drift`; the others files load."""
    source_file = PurePath(rel_path).as_posix()
    if files is None:
        files = PartitionFiles.scan(Path(partition_dir), _media_extensions())
    text = decode((Path(partition_dir) / rel_path).read_bytes(), source_file)
    if isinstance(text, RecordProblem):
        return ExportReadResult(source_file, None, [], [text])
    found = detect(text, source_file)
    posts: list[CanonicalPost] = []
    problems = list(found.problems)
    drift: SchemaDriftError | None = None
    if found.source_format is not None:
        fmt = registry.by_name(found.source_format)
        try:
            posts, more = fmt.read(found, text, source_file, files)
            problems += more
        except SchemaDriftError as exc:
            drift = exc
            why = (f"schema drift: field {exc.column!r} is missing from every record of {source_file} "
                   f"(format {exc.source_format}); fix the export or the adapter and rerun the day")
            problems = registry.record_problems(found.container, text, source_file, "schema_drift", why,
                                                exc.source_format, exc.column)
    if has_bad_bytes(text):
        posts, problems = _quarantine_bad_bytes(text, found.source_format, posts, problems, source_file)
    problems.sort(key=lambda p: (p.source_record is not None, p.source_record or 0))
    return ExportReadResult(source_file, found.source_format, posts, problems, drift)


def _quarantine_bad_bytes(
    text: str, fmt: str | None, posts: list[CanonicalPost], problems: list[RecordProblem], source_file: str
) -> tuple[list[CanonicalPost], list[RecordProblem]]:
    """Only the records holding a byte that is not UTF-8 go to quarantine (`bad_encoding`), the others load.

    A file whose container could not be read at all (an unknown format, a JSON document broken by the byte)
    stays one file-level `bad_encoding` problem, naming the first bad byte's line and column.
    """
    if fmt is None and all(p.source_record is None for p in problems):
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
    return read_partition_with_media(partition_dir).exports


@dataclass
class PartitionRead:
    """A partition's export results plus the media files no record claims (reported, never ignored)."""

    exports: list[ExportReadResult]
    orphan_media: list[str]


def read_partition_with_media(partition_dir: Path) -> PartitionRead:
    extensions = _media_extensions()
    files = PartitionFiles.scan(Path(partition_dir), extensions)
    exports = [read_export(partition_dir, name, files) for name in list_export_files(partition_dir, extensions)]
    claims = [(p.post_id, p.media_path) for e in exports for p in e.posts]
    return PartitionRead(exports, orphan_media(files, claims, extensions))
