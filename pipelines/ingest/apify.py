"""Apify TikTok Scraper (clockworks/tiktok-scraper) datasets: JSON items and their `/`-flattened CSV.

Item fields used (the actor's documented output): id, text, createTimeISO (else createTime, epoch s),
authorMeta.name, musicMeta{musicId, musicName, musicOriginal}, playCount, diggCount, shareCount,
commentCount, videoMeta.duration, hashtags[].name, mentions[] ("@name"), webVideoUrl, mediaUrls[]. Apify's CSV
export flattens nesting with `/` (`authorMeta/name`, `musicMeta/musicId`, `hashtags/0/name`). There is no duet
origin (NULL). Media: a downloaded video is stored as `video-<author>-<YYYYMMDDHHMMSS>-<id>.<ext>` (the name
the last segment of mediaUrls carries); the record's media is a file of that name, or any media file ending
in `-<id>.<ext>` whose name starts with `video-`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

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
    parse_duration,
    parse_flag,
    parse_id,
    parse_list,
    parse_name,
    parse_text,
    parse_timestamp,
    unique,
)
from pipelines.ingest.csv_rows import CsvRow, cell
from pipelines.media_paths import PartitionFiles
from pipelines.records import CanonicalPost, RecordProblem

JSON_FORMAT = "apify_json"
CSV_FORMAT = "apify_csv"
JSON_SIGNATURE = ("authorMeta", "webVideoUrl")
CSV_SIGNATURE = ("authormeta/name", "webvideourl")
JSON_REQUIRED = ("id", "authorMeta")
CSV_REQUIRED = ("id", "authormeta/name")
_INDEXED = re.compile(r"^(hashtags|mentions)/(\d+)(/name)?$")


def read_records(
    records: list[JsonRecord], source_file: str, files: PartitionFiles | None
) -> tuple[list[CanonicalPost], list[RecordProblem]]:
    def one(record: JsonRecord, name: str) -> CanonicalPost | RecordProblem:
        if not isinstance(record.value, dict):
            return not_an_object(record, name, JSON_FORMAT)
        return _to_post(_json_getter(record.value), record.line, record.index, record.raw, name, JSON_FORMAT, files)

    return map_records(records, JSON_REQUIRED, source_file, JSON_FORMAT, one)


def read_csv(
    text: str, source_file: str, files: PartitionFiles | None
) -> tuple[list[CanonicalPost], list[RecordProblem]]:
    header = csv_rows.header_of(text) or []
    csv_rows.require(header, CSV_REQUIRED, source_file, CSV_FORMAT)
    if "createtimeiso" not in header and "createtime" not in header:
        csv_rows.require(header, ("createtimeiso",), source_file, CSV_FORMAT)

    def one(row: CsvRow) -> CanonicalPost | RecordProblem:
        return _to_post(_csv_getter(row), row.line, row.index, row.raw, source_file, CSV_FORMAT, files)

    return csv_rows.map_rows(text, source_file, CSV_FORMAT, ",", one)


Getter = Callable[[str], Any]


def _json_getter(obj: dict[str, Any]) -> Getter:
    def get(path: str) -> Any:
        value: Any = obj
        for part in path.split("/"):
            if not isinstance(value, dict):
                if value is None:
                    return None
                raise BadValue(f"expected an object on the way to {path!r}, got {type(value).__name__}")
            value = value.get(part)
        return value

    return get


def _csv_getter(row: CsvRow) -> Getter:
    cells = row.cells

    def get(path: str) -> Any:
        if path in ("hashtags", "mentions"):  # flattened lists: hashtags/0/name, mentions/0
            found = []
            for name, value in cells.items():
                match = _INDEXED.match(name)
                if match and match.group(1) == path and cell(value):
                    found.append((int(match.group(2)), {"name": value} if path == "hashtags" else value))
            return [v for _, v in sorted(found, key=lambda item: item[0])]
        return cell(cells.get(path.lower()))

    return get


def _names(value: Any, key: str | None) -> list[str]:
    out = []
    for item in parse_list(value):
        if key and isinstance(item, dict):
            item = item.get(key)
        if item is not None and not isinstance(item, str):
            raise BadValue(f"expected text, found {type(item).__name__} {item!r}")
        out.append(item or "")
    return out


def _media(post_id: str | None, urls: list[Any], files: PartitionFiles | None) -> str | None:
    if files is None or not post_id:
        return None
    for url in urls:
        if isinstance(url, str):
            key = url.rstrip("/").rsplit("/", 1)[-1]
            exact = files.by_name.get(key) or files.by_stem.get(key)
            if exact:
                return exact
    return files.by_dash_id.get(post_id)


def _to_post(
    get: Getter, line: int | None, index: int, raw: str, source_file: str, fmt: str, files: PartitionFiles | None
) -> CanonicalPost | RecordProblem:
    c = FieldCollector()
    post_id = c.take("id", parse_id, get("id"))
    created_value = get("createTimeISO") or get("createTime")
    created_at, created_raw = parse_timestamp(created_value)
    author = c.take("authorMeta.name", parse_name, c.take("authorMeta.name", get, "authorMeta/name"))
    caption = c.take("text", parse_text, get("text"))
    music_id = c.take("musicMeta.musicId", parse_id, c.take("musicMeta", get, "musicMeta/musicId"))
    music_title = c.take("musicMeta.musicName", parse_text, c.take("musicMeta", get, "musicMeta/musicName"))
    original = c.take("musicMeta.musicOriginal", parse_flag, c.take("musicMeta", get, "musicMeta/musicOriginal"))
    plays = c.take("playCount", parse_count, get("playCount"))
    likes = c.take("diggCount", parse_count, get("diggCount"))
    shares = c.take("shareCount", parse_count, get("shareCount"))
    comments = c.take("commentCount", parse_count, get("commentCount"))
    duration = c.take("videoMeta.duration", parse_duration, c.take("videoMeta", get, "videoMeta/duration"))
    tags = c.take("hashtags", lambda v: _names(v, "name"), get("hashtags")) or []
    mentioned = c.take("mentions", lambda v: _names(v, None), get("mentions")) or []
    urls = c.take("mediaUrls", parse_list, get("mediaUrls")) if fmt == JSON_FORMAT else []
    if c.errors:
        return c.problem(source_file, line, index, raw, post_id, fmt)
    return CanonicalPost(
        post_id=post_id,
        author=author,
        created_at=created_at,
        created_at_raw=created_raw,
        caption=caption,
        platform_music_id=music_id,
        music_title=music_title,
        music_original=original,
        duet_from_post_id=None,
        mentions=unique(caption_mentions(caption) + [parse_name(m) or "" for m in mentioned]),
        hashtags=unique(caption_hashtags(caption) + [clean_hashtag(t) or "" for t in tags]),
        plays=plays,
        likes=likes,
        shares=shares,
        comments=comments,
        duration_s=duration,
        media_path=_media(post_id, urls or [], files),
        source_format=fmt,
        source_file=source_file,
        source_line=line,
        source_record=index,
        raw=raw,
    )
