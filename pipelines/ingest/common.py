"""Value parsers shared by the export adapters.

Every platform writes ids, counts and timestamps a little differently; these helpers give one answer for
all of them, so that a 19-digit id never meets a float and a bad value always names its field.
"""

from __future__ import annotations

import bisect
import json
import math
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeVar

from pipelines.records import CanonicalPost, RecordProblem, SchemaDriftError

# A record's problem keeps its original text in full; a whole unreadable file (unknown format, broken JSON
# document, bad encoding) keeps its first MAX_FILE_RAW_CHARS (the file itself stays in the landing zone).
MAX_FILE_RAW_CHARS = 1024 * 1024

_FLOAT_LOOKING = re.compile(r"[+-]?(\d+\.\d*|\.\d+|\d+(\.\d*)?[eE][+-]?\d+)")
_INT_TEXT = re.compile(r"[+-]?\d+")
_EPOCH_TEXT = re.compile(r"[+-]?\d+(\.\d+)?")
# TikTok user names: letters, digits, "_" and "."; not preceded by a name character (so e-mails do not count).
_MENTION = re.compile(r"(?<![A-Za-z0-9_.@])@([A-Za-z0-9_.]+)")
_HASHTAG = re.compile(r"#(\w+)")
# Captions the platform inserts; "#duet with @x" is caught by _HASHTAG, this catches the bare form too.
_AUTO_INSERT = re.compile(r"(?<![#\w])(duet|stitch) with @", re.IGNORECASE)

T = TypeVar("T")


class BadValue(Exception):
    """A field holds a value of the wrong type; the message says what was seen."""


@dataclass(frozen=True, slots=True)
class JsonRecord:
    """One JSON record as found in a file: its parsed value plus where and what it was."""

    value: Any
    raw: str
    line: int
    index: int


@dataclass(slots=True)
class FieldCollector:
    """Runs field parsers and keeps every failure, so one problem can list all bad fields of a record."""

    errors: list[tuple[str, str]] = field(default_factory=list)

    def take(self, name: str, parse: Callable[[Any], T], value: Any) -> T | None:
        try:
            return parse(value)
        except BadValue as exc:
            self.errors.append((name, str(exc)))
            return None

    def problem(
        self, source_file: str, line: int | None, index: int, raw: str, post_id: str | None, fmt: str
    ) -> RecordProblem:
        details = "; ".join(f"field {name!r}: {why}" for name, why in self.errors)
        return RecordProblem(
            source_file=source_file,
            source_line=line,
            source_record=index,
            field=self.errors[0][0],
            rule="bad_type",
            reason=f"{where(source_file, line, index)}: {details}",
            raw=raw,
            post_id=post_id,
            source_format=fmt,
        )


def where(source_file: str, line: int | None, index: int | None) -> str:
    """Human-readable location used at the start of every problem reason."""
    parts = [source_file]
    if line is not None:
        parts.append(f"line {line}")
    if index is not None:
        parts.append(f"record {index}")
    return " ".join(parts)


def file_raw(text: str) -> str:
    """What quarantine keeps of a whole unreadable file: its first MAX_FILE_RAW_CHARS characters."""
    return text if len(text) <= MAX_FILE_RAW_CHARS else text[:MAX_FILE_RAW_CHARS]


def show(value: Any) -> str:
    """A value as JSON text (for reasons and raw timestamps); never raises."""
    try:
        return json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError):
        return repr(value)


def parse_id(value: Any) -> str | None:
    """An id as an exact string. JSON ints are exact in Python; floats (and float-looking text) are not."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise BadValue(f"expected an integer or string id, got {type(value).__name__} {show(value)}")
    text = str(value).strip()
    if _FLOAT_LOOKING.fullmatch(text):
        raise BadValue(f"id {text!r} looks like a number that went through a float (precision lost)")
    return text or None


def parse_duet_id(value: Any) -> str | None:
    """duetFromId: "0", 0 or empty mean "not a duet"."""
    text = parse_id(value)
    return None if text is None or text == "0" else text


def parse_count(value: Any) -> int | None:
    """An integer statistic; integral text ("123") is accepted, negatives are kept for the contract."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise BadValue(f"expected an integer, got boolean {show(value)}")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and math.isfinite(value) and value.is_integer() and abs(value) < 2**53:
        return int(value)
    if isinstance(value, str) and _INT_TEXT.fullmatch(value.strip()):
        return int(value.strip())
    raise BadValue(f"expected an integer, got {type(value).__name__} {show(value)}")


def parse_duration(value: Any) -> float | None:
    """A duration in seconds (int, float or numeric text)."""
    if value is None:
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
        return float(value)
    if isinstance(value, str) and _EPOCH_TEXT.fullmatch(value.strip()):
        return float(value.strip())
    raise BadValue(f"expected a number of seconds, got {type(value).__name__} {show(value)}")


def parse_text(value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value
    raise BadValue(f"expected text, got {type(value).__name__} {show(value)}")


def parse_name(value: Any) -> str | None:
    """A user name: text, stripped of spaces and a leading "@"; empty means missing."""
    text = parse_text(value)
    return (text.strip().lstrip("@").strip() or None) if text is not None else None


def parse_flag(value: Any) -> bool | None:
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    raise BadValue(f"expected true/false, got {type(value).__name__} {show(value)}")


def parse_object(value: Any) -> dict[str, Any]:
    """A nested object; missing becomes {} so that its own fields read as missing."""
    if value is None:
        return {}
    if isinstance(value, dict):
        return value
    raise BadValue(f"expected an object, got {type(value).__name__} {show(value)}")


def parse_list(value: Any) -> list[Any]:
    if value is None:
        return []
    if isinstance(value, list):
        return value
    raise BadValue(f"expected a list, got {type(value).__name__} {show(value)}")


def parse_timestamp(value: Any) -> tuple[datetime | None, str | None]:
    """(aware UTC datetime or None, the original value as text). Accepts epoch seconds and ISO 8601.

    Never raises: an unparsable time is the data contract's to quarantine, with the raw text as evidence.
    """
    if value is None or (isinstance(value, str) and not value.strip()):
        return None, None
    raw = value if isinstance(value, str) else show(value)
    if isinstance(value, bool):
        return None, raw
    if isinstance(value, (int, float)):
        return _from_epoch(value), raw
    if not isinstance(value, str):
        return None, raw
    text = value.strip()
    if _EPOCH_TEXT.fullmatch(text):
        return _from_epoch(float(text) if "." in text else int(text)), raw
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None, raw
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=UTC), raw
    return parsed.astimezone(UTC), raw


def _from_epoch(seconds: float) -> datetime | None:
    if isinstance(seconds, float) and not math.isfinite(seconds):
        return None
    try:
        return datetime.fromtimestamp(seconds, tz=UTC)
    except (OverflowError, OSError, ValueError):
        return None


def unique(items: Iterable[str]) -> list[str]:
    """De-duplicate keeping first occurrence order, dropping empties."""
    seen: dict[str, None] = {}
    for item in items:
        if item and item not in seen:
            seen[item] = None
    return list(seen)


def caption_mentions(caption: str | None) -> list[str]:
    if not caption:
        return []
    return unique(m.group(1).rstrip(".") for m in _MENTION.finditer(caption))


def caption_hashtags(caption: str | None) -> list[str]:
    """Hashtags in caption order, lower-cased; "duet/stitch with @x" counts as #duet/#stitch."""
    if not caption:
        return []
    found = [(m.start(), m.group(1).lower()) for m in _HASHTAG.finditer(caption)]
    found += [(m.start(), m.group(1).lower()) for m in _AUTO_INSERT.finditer(caption)]
    return unique(tag for _, tag in sorted(found))


def clean_hashtag(name: str | None) -> str | None:
    if not name:
        return None
    return name.strip().lstrip("#").strip().lower() or None


def check_required(records: list[JsonRecord], required: Iterable[str], source_file: str, fmt: str) -> None:
    """Raise SchemaDriftError when a required key is absent from every object record of the file."""
    objects = [r.value for r in records if isinstance(r.value, dict)]
    if not objects:
        return
    for column in required:
        if all(column not in obj for obj in objects):
            raise SchemaDriftError(source_file, column, fmt)


def map_records(
    records: list[JsonRecord],
    required: Iterable[str],
    source_file: str,
    fmt: str,
    to_post: Callable[[JsonRecord, str], CanonicalPost | RecordProblem],
) -> tuple[list[CanonicalPost], list[RecordProblem]]:
    """Map every JSON record of one file with `to_post`; raises SchemaDriftError when a required key is gone
    from all of them."""
    check_required(records, required, source_file, fmt)
    posts: list[CanonicalPost] = []
    problems: list[RecordProblem] = []
    for record in records:
        result = to_post(record, source_file)
        (posts if isinstance(result, CanonicalPost) else problems).append(result)
    return posts, problems


def not_an_object(record: JsonRecord, source_file: str, fmt: str) -> RecordProblem:
    return RecordProblem(
        source_file=source_file,
        source_line=record.line,
        source_record=record.index,
        field=None,
        rule="not_an_object",
        reason=(
            f"{where(source_file, record.line, record.index)}: expected a JSON object, "
            f"got {type(record.value).__name__}"
        ),
        raw=record.raw,
        source_format=fmt,
    )


class LineIndex:
    """Maps character offsets of a text to 1-based line numbers."""

    def __init__(self, text: str) -> None:
        self._newlines = [m.start() for m in re.finditer("\n", text)]

    def line_of(self, offset: int) -> int:
        return bisect.bisect_left(self._newlines, offset) + 1
