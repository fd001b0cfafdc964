"""Where a post's media file is, resolved strictly inside its landing partition.

A record may name any path; `..`, absolute paths and symlinks that leave the partition are refused so an
export can never make the pipeline read (or hash, or decode) a file elsewhere on the machine.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
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


# Container signatures of the audio/video files tools save next to their exports (first bytes; the `ftyp` box
# of MP4/M4A/MOV sits at offset 4). A file that starts with one of them is media, never an export.
_MAGIC = (b"ID3", b"OggS", b"fLaC", b"\x1a\x45\xdf\xa3", b"RIFF", b"\xff\xf1", b"\xff\xf9", b"\xff\xfb", b"\xff\xf3")


def looks_like_media(path: Path, extensions: tuple[str, ...]) -> bool:
    """True for a media file: by its extension (the accepted media extensions) or by its first bytes."""
    if path.suffix.lower().lstrip(".") in extensions:
        return True
    try:
        with path.open("rb") as fh:
            head = fh.read(12)
    except OSError:
        return False
    return head[4:8] == b"ftyp" or head.startswith(_MAGIC)


_BRACKET_ID = re.compile(r"\[([0-9A-Za-z_-]+)\]$")


@dataclass(frozen=True, slots=True)
class PartitionFiles:
    """Every file of a partition (relative, '/'-separated, dotfiles left out) and which of them are media,
    indexed the ways tools name media: what adapters look at to name a record's media by its tool's layout.
    Each index keeps the first file in (top level before sub-folders, then name) order."""

    root: Path
    files: tuple[str, ...]
    media: tuple[str, ...]
    by_stem: dict[str, str] = field(default_factory=dict)  # "name" of name.ext -> path
    by_name: dict[str, str] = field(default_factory=dict)  # "name.ext" -> path
    by_bracket_id: dict[str, str] = field(default_factory=dict)  # yt-dlp "<title> [<id>].<ext>"
    by_dash_id: dict[str, str] = field(default_factory=dict)  # Apify "video-<user>-<time>-<id>.<ext>"

    @classmethod
    def scan(cls, partition: Path, extensions: tuple[str, ...]) -> PartitionFiles:
        root = Path(partition)
        files: list[str] = []
        media: list[str] = []
        if root.is_dir():
            for entry in sorted(root.rglob("*")):
                rel = entry.relative_to(root)
                if any(part.startswith(".") for part in rel.parts) or not entry.is_file():
                    continue
                files.append(rel.as_posix())
                if looks_like_media(entry, extensions):
                    media.append(rel.as_posix())
        found = cls(root, tuple(files), tuple(media))
        for rel in sorted(media, key=lambda r: (r.count("/"), r)):
            base = rel.rsplit("/", 1)[-1]
            stem = base.rsplit(".", 1)[0]
            found.by_name.setdefault(base, rel)
            found.by_stem.setdefault(stem, rel)
            if (match := _BRACKET_ID.search(stem)) is not None:
                found.by_bracket_id.setdefault(match.group(1), rel)
            if base.startswith("video-") and "-" in stem:
                found.by_dash_id.setdefault(stem.rsplit("-", 1)[-1], rel)
        return found


def orphan_media(
    files: PartitionFiles, claims: list[tuple[str | None, str | None]], extensions: tuple[str, ...]
) -> list[str]:
    """Media files of the partition that no record claims, given each record's (post id, declared path) and
    resolved the way validate resolves them."""
    claimed = set()
    for post_id, declared in claims:
        where = resolve_media(files.root, post_id, declared, extensions)
        if where.path:
            claimed.add(where.path)
    return [rel for rel in files.media if rel not in claimed]
