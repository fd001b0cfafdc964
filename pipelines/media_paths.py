"""Where a post's media file is, resolved strictly inside its landing partition.

A record may name any path; `..`, absolute paths and symlinks that leave the partition are refused so an
export can never make the pipeline read (or hash, or decode) a file elsewhere on the machine.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, slots=True)
class MediaLocation:
    status: str  # ok | missing | outside_partition | not_a_file | bad_extension
    path: str | None  # relative to the partition, '/'-separated, when status == ok
    problem: str | None  # human-readable detail when status != ok


def _inside(candidate: Path, root: Path) -> bool:
    return candidate == root or candidate.is_relative_to(root)


def resolve_media(
    partition: Path, post_id: str | None, declared: str | None, extensions: tuple[str, ...]
) -> MediaLocation:
    """The record's declared media path, else `media/<post id>.<ext>` for the first accepted ext that exists."""
    root = partition.resolve()
    if declared:
        if "\x00" in declared or Path(declared).is_absolute():
            return MediaLocation(
                "outside_partition",
                None,
                f"media path {declared!r} is absolute; it must be relative to {partition.name}/",
            )
        candidate = (root / declared).resolve()
        if not _inside(candidate, root):
            return MediaLocation(
                "outside_partition", None, f"media path {declared!r} resolves outside {partition.name}/"
            )
        return _check_file(candidate, root, declared, extensions)
    if not post_id:
        return MediaLocation("missing", None, "no media path and no post id to find media/<post id>.<ext> by")
    for ext in extensions:
        candidate = (root / "media" / f"{post_id}.{ext}").resolve()
        if not _inside(candidate, root):
            return MediaLocation("outside_partition", None, f"media/{post_id}.{ext} resolves outside {partition.name}/")
        if candidate.exists():
            return _check_file(candidate, root, f"media/{post_id}.{ext}", extensions)
    return MediaLocation("missing", None, f"no file media/{post_id}.<{'|'.join(extensions)}> in {partition.name}/")


def _check_file(candidate: Path, root: Path, shown: str, extensions: tuple[str, ...]) -> MediaLocation:
    if not candidate.exists():
        return MediaLocation("missing", None, f"{shown!r} does not exist in {root.name}/")
    if not candidate.is_file():
        return MediaLocation("not_a_file", None, f"{shown!r} is not a regular file")
    ext = candidate.suffix.lower().lstrip(".")
    if ext not in extensions:
        return MediaLocation(
            "bad_extension", None, f"{shown!r} has extension {ext!r}; accepted: {', '.join(extensions)}"
        )
    return MediaLocation("ok", candidate.relative_to(root).as_posix(), None)
