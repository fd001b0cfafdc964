"""Declarative formats: `config/formats/<name>.yaml` maps any other CSV/JSON export onto canonical fields.

A vendor spreadsheet or an in-house scraper should not need Python: its YAML names the columns (CSV) or keys
(JSON) only its files have (the signature), the fields it must have (required: missing from every record is
schema drift), and where each canonical field comes from. Loaded into the registry beside the built-in
formats, listed by `trendtrace formats`, detected by the same "exactly one signature accepts" rule.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from pipelines.ingest import csv_rows
from pipelines.ingest.common import (
    BadValue,
    FieldCollector,
    JsonRecord,
    caption_hashtags,
    caption_mentions,
    clean_hashtag,
    map_records,
    not_an_object,
    parse_count,
    parse_duet_id,
    parse_duration,
    parse_flag,
    parse_id,
    parse_name,
    parse_text,
    parse_timestamp,
    unique,
)
from pipelines.ingest.csv_rows import CsvRow, cell
from pipelines.records import CanonicalPost, RecordProblem

ENV_FORMATS_DIR = "TRENDTRACE_FORMATS_DIR"
FORMATS_DIR = Path(__file__).resolve().parents[2] / "config" / "formats"

# canonical field -> parser of the source value
_PARSERS = {
    "post_id": parse_id, "author": parse_name, "caption": parse_text, "platform_music_id": parse_id,
    "music_title": parse_text, "music_original": parse_flag, "duet_from_post_id": parse_duet_id,
    "plays": parse_count, "likes": parse_count, "shares": parse_count, "comments": parse_count,
    "duration_s": parse_duration, "media_path": parse_text,
}
FIELDS = (*_PARSERS, "created_at", "hashtags", "mentions")


class MappingError(ValueError):
    """A config/formats file that cannot be used; the message names the file and the key."""


@dataclass(frozen=True, slots=True)
class Mapping:
    name: str
    container: str  # csv | json
    delimiter: str
    signature: tuple[str, ...]  # all present = this format (CSV: header columns, lower-cased; JSON: top-level keys)
    required: tuple[str, ...]
    fields: dict[str, str]  # canonical field -> source column / key path ("a/b" for nesting)
    tool: str
    source: Path


def formats_dir() -> Path:
    configured = os.environ.get(ENV_FORMATS_DIR)
    return Path(configured) if configured else FORMATS_DIR


def load(folder: Path | None = None) -> list[Mapping]:
    """Every `*.yaml` of the folder, in name order; a broken one raises MappingError naming it."""
    folder = formats_dir() if folder is None else folder
    if not folder.is_dir():
        return []
    return [_parse(path) for path in sorted(folder.glob("*.yaml"))]


def _strings(doc: dict[str, Any], key: str, path: Path, lower: bool) -> tuple[str, ...]:
    value = doc.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise MappingError(f"{path}: {key!r} must be a list of column/key names")
    return tuple(v.strip().lower() if lower else v for v in value)


def _parse(path: Path) -> Mapping:
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise MappingError(f"{path}: not valid YAML: {exc}") from None
    if not isinstance(doc, dict):
        raise MappingError(f"{path}: expected a mapping at the top level")
    name = doc.get("name", path.stem)
    container = doc.get("container")
    if container not in ("csv", "json"):
        raise MappingError(f"{path}: 'container' must be csv or json, got {container!r}")
    lower = container == "csv"  # CSV headers are compared lower-cased
    signature = _strings(doc, "signature", path, lower)
    if not signature:
        raise MappingError(f"{path}: 'signature' must name at least one column/key only these files have")
    fields = doc.get("fields")
    if not isinstance(fields, dict) or not fields:
        raise MappingError(f"{path}: 'fields' must map canonical fields to source columns/keys")
    unknown = sorted(set(fields) - set(FIELDS))
    if unknown:
        raise MappingError(f"{path}: unknown canonical field(s) {', '.join(unknown)}; known: {', '.join(FIELDS)}")
    if "post_id" not in fields:
        raise MappingError(f"{path}: 'fields' must map post_id")
    delimiter = doc.get("delimiter", ",")
    if container == "csv" and (not isinstance(delimiter, str) or len(delimiter) != 1):
        raise MappingError(f"{path}: 'delimiter' must be one character")
    mapped = {k: (str(v).strip().lower() if lower else str(v)) for k, v in fields.items()}
    required = _strings(doc, "required", path, lower) or (mapped["post_id"],)
    return Mapping(str(name), container, delimiter, signature, required, mapped, str(doc.get("tool", path.name)),
                   path)


def _value(get, source: str | None) -> Any:
    return None if source is None else get(source)


def _to_post(
    m: Mapping, get, line: int | None, index: int, raw: str, source_file: str
) -> CanonicalPost | RecordProblem:
    c = FieldCollector()
    values: dict[str, Any] = {}
    for name, parse in _PARSERS.items():
        if name in m.fields:
            values[name] = c.take(m.fields[name], parse, get(m.fields[name]))
    created_at, created_raw = parse_timestamp(_value(get, m.fields.get("created_at")))
    lists: dict[str, list[str]] = {}
    for name in ("hashtags", "mentions"):
        lists[name] = c.take(m.fields.get(name, name), _names, _value(get, m.fields.get(name))) or []
    if c.errors:
        return c.problem(source_file, line, index, raw, values.get("post_id"), m.name)
    caption = values.get("caption")
    return CanonicalPost(
        post_id=values.get("post_id"), author=values.get("author"), created_at=created_at,
        created_at_raw=created_raw, caption=caption, platform_music_id=values.get("platform_music_id"),
        music_title=values.get("music_title"), music_original=values.get("music_original"),
        duet_from_post_id=values.get("duet_from_post_id"),
        mentions=unique(caption_mentions(caption) + [parse_name(n) or "" for n in lists["mentions"]]),
        hashtags=unique(caption_hashtags(caption) + [clean_hashtag(n) or "" for n in lists["hashtags"]]),
        plays=values.get("plays"), likes=values.get("likes"), shares=values.get("shares"),
        comments=values.get("comments"), duration_s=values.get("duration_s"), media_path=values.get("media_path"),
        source_format=m.name, source_file=source_file, source_line=line, source_record=index, raw=raw,
    )


def _names(value: Any) -> list[str]:
    """A list of names, or comma/space-separated text ("#a, #b")."""
    if value is None:
        return []
    if isinstance(value, str):
        return [part for part in value.replace(",", " ").split() if part]
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return value
    raise BadValue(f"expected a list of names or comma-separated text, got {type(value).__name__}")


def read_json(
    m: Mapping, records: list[JsonRecord], source_file: str
) -> tuple[list[CanonicalPost], list[RecordProblem]]:
    def one(record: JsonRecord, name: str) -> CanonicalPost | RecordProblem:
        if not isinstance(record.value, dict):
            return not_an_object(record, name, m.name)
        obj = record.value

        def get(path: str) -> Any:
            value: Any = obj
            for part in path.split("/"):
                if not isinstance(value, dict):
                    return None
                value = value.get(part)
            return value

        return _to_post(m, get, record.line, record.index, record.raw, name)

    return map_records(records, [r.split("/")[0] for r in m.required], source_file, m.name, one)


def read_csv(m: Mapping, text: str, source_file: str) -> tuple[list[CanonicalPost], list[RecordProblem]]:
    csv_rows.require(csv_rows.header_of(text, m.delimiter) or [], m.required, source_file, m.name)

    def one(row: CsvRow) -> CanonicalPost | RecordProblem:
        return _to_post(m, lambda col: cell(row.cells.get(col)), row.line, row.index, row.raw, source_file)

    return csv_rows.map_rows(text, source_file, m.name, m.delimiter, one)
