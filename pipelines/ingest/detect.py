"""Work out, from a file's content, which export format it is and split JSON into located records.

Detection is per file and content-first (the extension only breaks ties), because landing zones mix
exports from different tools and people rename files.
"""

from __future__ import annotations

import codecs
import json
import re
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any

from pipelines.ingest import csv_export, research_api, tiktok_web
from pipelines.ingest.common import JsonRecord, LineIndex, file_raw, where
from pipelines.records import RecordProblem

JSON_LINES_SUFFIXES = (".jsonl", ".ndjson")
JSON_SUFFIXES = (".json", *JSON_LINES_SUFFIXES)
MIN_SHAPE_KEYS = 2  # distinctive keys a file must show before we call it web or research JSON
MIN_CSV_COLUMNS = 3  # header columns of csv_export a CSV must show; fewer means "unrelated CSV"

_DECODER = json.JSONDecoder()
_WS = re.compile(r"[ \t\n\r]*")


@dataclass(slots=True)
class Detection:
    """The file's format (None = unknown/unreadable), its JSON records and problems found on the way."""

    source_format: str | None
    records: list[JsonRecord] = field(default_factory=list)
    problems: list[RecordProblem] = field(default_factory=list)


_WIDE_BOMS = (codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
BAD_BYTE = re.compile("[\udc80-\udcff]")  # an undecodable byte, as surrogateescape keeps it


def decode(data: bytes, source_file: str) -> str | RecordProblem:
    """UTF-8 with or without BOM. A byte that is not UTF-8 is kept as a lone surrogate (surrogateescape),
    so that only the records holding one are quarantined (`bad_encoding`, see `has_bad_bytes`), not the
    whole file; a UTF-16/UTF-32 file (by its BOM) is one file-level bad_encoding problem."""
    for bom in _WIDE_BOMS:
        if data.startswith(bom):
            return RecordProblem(
                source_file=source_file,
                source_line=1,
                source_record=None,
                field=None,
                rule="bad_encoding",
                reason=f"{source_file}: not UTF-8 (it starts with a UTF-16/UTF-32 byte-order mark); re-export as UTF-8",
                raw=printable(data.decode("utf-8", errors="surrogateescape")),
            )
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8):]
    return data.decode("utf-8", errors="surrogateescape")


def has_bad_bytes(text: str) -> bool:
    return BAD_BYTE.search(text) is not None


def printable(text: str) -> str:
    """Text safe to store: each undecodable byte shown as \\xNN (the original bytes stay recognisable)."""
    if not has_bad_bytes(text):
        return text
    return text.encode("utf-8", errors="surrogateescape").decode("utf-8", errors="backslashreplace")


def first_bad_byte(text: str) -> tuple[int, int, int] | None:
    """(1-based line, 1-based column, byte value) of the first undecodable byte, None when there is none."""
    match = BAD_BYTE.search(text)
    if match is None:
        return None
    line = text.count("\n", 0, match.start()) + 1
    column = match.start() - (text.rfind("\n", 0, match.start()) + 1) + 1
    return line, column, ord(match.group()) - 0xDC00


def detect(text: str, source_file: str) -> Detection:
    """Decide the format of a decoded file; JSON files come back already split into records."""
    stripped = text.lstrip()
    suffix = PurePosixPath(source_file).suffix.lower()
    if not stripped:
        return _unknown(text, source_file, "the file is empty")
    first = stripped[0]
    if first == "[":
        try:
            json.loads(text)
        except json.JSONDecodeError as exc:
            # Decided by the whole file, not its first character: `[1,2]` on line 1 followed by records is
            # JSON lines whose first line is not an object, not a broken array.
            return _json_lines(text, source_file, suffix) or Detection(
                None, problems=[_malformed_file(text, source_file, exc)]
            )
        lines = LineIndex(text)
        return _by_shape(_array_items(text, len(text) - len(stripped), lines), [], text, source_file)
    if first == "{":
        try:
            value = json.loads(text)
        except json.JSONDecodeError as exc:
            return _json_lines(text, source_file, suffix) or Detection(
                None, problems=[_malformed_file(text, source_file, exc)]
            )
        return _object_file(text, value, len(text) - len(stripped), source_file)
    if suffix in JSON_SUFFIXES:
        found = _json_lines(text, source_file, suffix)
        if found is not None:
            return found
        try:
            json.loads(text)
        except json.JSONDecodeError as exc:
            return Detection(None, problems=[_malformed_file(text, source_file, exc)])
        return _unknown(text, source_file, "a single JSON value that is neither an array nor an object")
    header = csv_export.header_of(text)
    if header and sum(column in header for column in csv_export.COLUMNS) >= MIN_CSV_COLUMNS:
        return Detection(csv_export.FORMAT)
    return _unknown(text, source_file, f"neither JSON nor a known CSV header; it starts with {stripped[:60]!r}")


def _json_lines(text: str, source_file: str, suffix: str) -> Detection | None:
    """One JSON value per line; None when the text does not look like JSON lines at all."""
    records: list[JsonRecord] = []
    problems: list[RecordProblem] = []
    index = 0
    for number, line in enumerate(text.split("\n"), start=1):
        raw = line.rstrip("\r")
        if not raw.strip():
            continue
        try:
            records.append(JsonRecord(json.loads(raw), raw, number, index))
        except json.JSONDecodeError as exc:
            problems.append(
                RecordProblem(
                    source_file=source_file,
                    source_line=number,
                    source_record=index,
                    field=None,
                    rule="malformed_json",
                    reason=f"{where(source_file, number, index)}: malformed JSON: {exc.msg} at column {exc.colno}",
                    raw=raw,
                )
            )
        index += 1
    if suffix not in JSON_LINES_SUFFIXES and len(records) < max(len(problems), 1):
        return None  # most lines are not JSON: a broken pretty-printed document, not JSON lines
    return _by_shape(records, problems, text, source_file)


def _object_file(text: str, value: dict[str, Any], start: int, source_file: str) -> Detection:
    """A whole-file object: a web/API wrapper around a record list, or a single record."""
    lines = LineIndex(text)
    if "itemList" in value:
        if not isinstance(value["itemList"], list):
            return _unknown(text, source_file, "an 'itemList' that is not a list")
        records = _array_items(text, _member(text, start, "itemList"), lines)
        return _finish(tiktok_web.FORMAT, records, [], source_file)
    data = value.get("data")
    if isinstance(data, dict) and "videos" in data:
        if not isinstance(data["videos"], list):
            return _unknown(text, source_file, "a 'data.videos' that is not a list")
        records = _array_items(text, _member(text, _member(text, start, "data"), "videos"), lines)
        return _finish(research_api.FORMAT, records, [], source_file)
    record = JsonRecord(value, text.strip(), lines.line_of(start), 0)
    return _by_shape([record], [], text, source_file)


def _by_shape(
    records: list[JsonRecord], problems: list[RecordProblem], text: str, source_file: str
) -> Detection:
    """Pick web or research from the keys the file's object records use (union over the file)."""
    keys: set[str] = set()
    for record in records:
        if isinstance(record.value, dict):
            keys.update(record.value)
    if not keys:
        if any(not isinstance(r.value, dict) for r in records):
            return _unknown(text, source_file, "JSON without any object records")
        return Detection(None, problems=problems)  # nothing but malformed lines, or an empty list
    web = len(keys & tiktok_web.SHAPE_KEYS)
    research = len(keys & research_api.SHAPE_KEYS)
    if max(web, research) < MIN_SHAPE_KEYS or web == research:
        seen = ", ".join(sorted(keys)[:20])
        return _unknown(text, source_file, f"JSON records matching neither web nor research shape (keys: {seen})")
    return _finish(tiktok_web.FORMAT if web > research else research_api.FORMAT, records, problems, source_file)


def _finish(fmt: str, records: list[JsonRecord], problems: list[RecordProblem], source_file: str) -> Detection:
    for problem in problems:
        problem.source_format = fmt
    return Detection(fmt, records, problems)


def _skip(text: str, pos: int) -> int:
    match = _WS.match(text, pos)
    return match.end() if match else pos


def _array_items(text: str, pos: int, lines: LineIndex) -> list[JsonRecord]:
    """Elements of the (already validated) JSON array at text[pos], with their text and start line."""
    items: list[JsonRecord] = []
    pos = _skip(text, pos + 1)
    if text[pos] == "]":
        return items
    while True:
        value, end = _DECODER.raw_decode(text, pos)
        items.append(JsonRecord(value, text[pos:end], lines.line_of(pos), len(items)))
        pos = _skip(text, end)
        if text[pos] == "]":
            return items
        pos = _skip(text, pos + 1)  # past the ","


def _member(text: str, pos: int, key: str) -> int:
    """Offset of the value of `key` (last occurrence, as json.loads keeps) in the validated object at pos."""
    found = -1
    pos = _skip(text, pos + 1)
    while text[pos] != "}":
        name, pos = _DECODER.raw_decode(text, pos)
        pos = _skip(text, _skip(text, pos) + 1)  # past the ":"
        if name == key:
            found = pos
        _, pos = _DECODER.raw_decode(text, pos)
        pos = _skip(text, pos)
        if text[pos] == ",":
            pos = _skip(text, pos + 1)
    if found < 0:
        raise KeyError(key)
    return found


def _malformed_file(text: str, source_file: str, exc: json.JSONDecodeError) -> RecordProblem:
    return RecordProblem(
        source_file=source_file,
        source_line=exc.lineno,
        source_record=None,
        field=None,
        rule="malformed_json",
        reason=f"{source_file}: not valid JSON nor JSON lines: {exc.msg} at line {exc.lineno} column {exc.colno}",
        raw=file_raw(text),
    )


def _unknown(text: str, source_file: str, seen: str) -> Detection:
    problem = RecordProblem(
        source_file=source_file,
        source_line=None,
        source_record=None,
        field=None,
        rule="unknown_format",
        reason=f"{source_file}: unknown export format: {seen}",
        raw=file_raw(text),
    )
    return Detection(None, problems=[problem])
