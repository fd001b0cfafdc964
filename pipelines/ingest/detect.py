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

from pipelines.ingest.common import JsonRecord, LineIndex, file_raw, where
from pipelines.ingest.csv_rows import CSV_DELIMITERS, header_of
from pipelines.records import RecordProblem

JSON_LINES_SUFFIXES = (".jsonl", ".ndjson")
JSON_SUFFIXES = (".json", *JSON_LINES_SUFFIXES)

_DECODER = json.JSONDecoder()
_WS = re.compile(r"[ \t\n\r]*")


@dataclass(slots=True)
class Container:
    """What a file holds before any format is chosen: its kind, records (JSON) or headers (CSV), problems.

    kind None = no readable container (`reason` says why, or `file_problem` is a broken JSON document).
    shape: array | lines | pages (Research API response pages) | itemList | object (the whole file is one object).
    """

    kind: str | None
    records: list[JsonRecord] = field(default_factory=list)
    problems: list[RecordProblem] = field(default_factory=list)
    shape: str | None = None
    headers: dict[str, list[str]] = field(default_factory=dict)  # CSV: delimiter -> normalised header
    reason: str | None = None
    file_problem: RecordProblem | None = None

    def object_keys(self) -> set[str]:
        """Union of the keys of the object records (what a JSON signature is checked against)."""
        found: set[str] = set()
        for record in self.records:
            if isinstance(record.value, dict):
                found.update(record.value)
        return found


@dataclass(slots=True)
class Detection:
    """The file's format (None = unknown/unreadable), its container and problems found on the way.

    refusals: every registry format considered, with why it did not take the file ("" = it did).
    """

    source_format: str | None
    records: list[JsonRecord] = field(default_factory=list)
    problems: list[RecordProblem] = field(default_factory=list)
    container: Container | None = None
    refusals: dict[str, str] = field(default_factory=dict)


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
    """Split a decoded file into its container's records and let the format registry pick its reader."""
    from pipelines.ingest import registry

    found = container(text, source_file)
    return registry.choose(found, text, source_file)


def container(text: str, source_file: str) -> Container:
    """The file's container (JSON document, JSON lines, CSV) with its records; decided by the whole file."""
    stripped = text.lstrip()
    suffix = PurePosixPath(source_file).suffix.lower()
    if not stripped:
        return Container(None, reason="the file is empty")
    first = stripped[0]
    if first == "[":
        try:
            json.loads(text)
        except json.JSONDecodeError as exc:
            # Decided by the whole file, not its first character: `[1,2]` on line 1 followed by records is
            # JSON lines whose first line is not an object, not a broken array.
            return _json_lines(text, source_file, suffix) or Container(
                None, file_problem=_malformed_file(text, source_file, exc)
            )
        lines = LineIndex(text)
        return Container("json", _array_items(text, len(text) - len(stripped), lines), shape="array")
    if first == "{":
        try:
            value = json.loads(text)
        except json.JSONDecodeError as exc:
            return _json_lines(text, source_file, suffix) or Container(
                None, file_problem=_malformed_file(text, source_file, exc)
            )
        return _object_file(text, value, len(text) - len(stripped), source_file)
    if suffix in JSON_SUFFIXES:
        found = _json_lines(text, source_file, suffix)
        if found is not None:
            return found
        try:
            json.loads(text)
        except json.JSONDecodeError as exc:
            return Container(None, file_problem=_malformed_file(text, source_file, exc))
        return Container(None, reason="a single JSON value that is neither an array nor an object")
    headers = {delimiter: header_of(text, delimiter) for delimiter in CSV_DELIMITERS}
    headers = {d: h for d, h in headers.items() if h and len(h) >= 2}
    if headers:
        return Container("csv", headers=headers)
    return Container(None, reason=f"neither JSON nor CSV with a header; it starts with {stripped[:60]!r}")


def _json_lines(text: str, source_file: str, suffix: str) -> Container | None:
    """One JSON value per line (a Research API response page per line is expanded into its videos); None when
    the text does not look like JSON lines at all."""
    records: list[JsonRecord] = []
    problems: list[RecordProblem] = []
    index = 0
    pages = 0
    for number, line in enumerate(text.split("\n"), start=1):
        raw = line.rstrip("\r")
        if not raw.strip():
            continue
        try:
            value = json.loads(raw)
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
            continue
        videos = _page_videos(value)
        if videos is not None:
            pages += 1
            start = len(raw) - len(raw.lstrip())
            pos = _member(raw, _member(raw, start, "data"), "videos")
            for item in _array_items(raw, pos, LineIndex(raw)):
                records.append(JsonRecord(item.value, item.raw, number, index))
                index += 1
            continue
        records.append(JsonRecord(value, raw, number, index))
        index += 1
    if suffix not in JSON_LINES_SUFFIXES and len(records) + pages < max(len(problems), 1):
        return None  # most lines are not JSON: a broken pretty-printed document, not JSON lines
    return Container("json", records, problems, shape="pages" if pages else "lines")


def _page_videos(value: Any) -> list[Any] | None:
    """The `data.videos` list of a Research API response page, None when `value` is not one."""
    if isinstance(value, dict) and isinstance(value.get("data"), dict):
        videos = value["data"].get("videos")
        if isinstance(videos, list):
            return videos
    return None


def _object_file(text: str, value: dict[str, Any], start: int, source_file: str) -> Container:
    """A whole-file object: a web/API wrapper around a record list, or a single record."""
    lines = LineIndex(text)
    if "itemList" in value:
        if not isinstance(value["itemList"], list):
            return Container(None, reason="an 'itemList' that is not a list")
        return Container("json", _array_items(text, _member(text, start, "itemList"), lines), shape="itemList")
    data = value.get("data")
    if isinstance(data, dict) and "videos" in data:
        if not isinstance(data["videos"], list):
            return Container(None, reason="a 'data.videos' that is not a list")
        records = _array_items(text, _member(text, _member(text, start, "data"), "videos"), lines)
        return Container("json", records, shape="pages")
    return Container("json", [JsonRecord(value, text.strip(), lines.line_of(start), 0)], shape="object")


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
