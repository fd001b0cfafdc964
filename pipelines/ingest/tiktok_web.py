"""TikTok web / TikTok-Api item JSON -> CanonicalPost."""

from __future__ import annotations

from typing import Any

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
    parse_list,
    parse_name,
    parse_object,
    parse_text,
    parse_timestamp,
    unique,
)
from pipelines.records import CanonicalPost, RecordProblem

FORMAT = "tiktok_web"
REQUIRED = ("id", "createTime", "author")
# Keys that tell a web item apart from a Research API video (detection counts how many appear).
SHAPE_KEYS = frozenset(
    {"createTime", "desc", "author", "music", "duetInfo", "textExtra", "stats", "video", "authorStats"}
)


def read_records(records: list[JsonRecord], source_file: str) -> tuple[list[CanonicalPost], list[RecordProblem]]:
    """Map every record of one file; raises SchemaDriftError when a required key is gone from all of them."""
    return map_records(records, REQUIRED, source_file, FORMAT, to_post)


def _author(value: Any) -> str | None:
    """author is an object with uniqueId, or a plain string in some dumps."""
    if isinstance(value, dict):
        return parse_name(value.get("uniqueId"))
    if value is None or isinstance(value, str):
        return parse_name(value)
    raise BadValue(f"expected an object or a name, got {type(value).__name__}")


def to_post(record: JsonRecord, source_file: str, fmt: str = FORMAT) -> CanonicalPost | RecordProblem:
    obj = record.value
    if not isinstance(obj, dict):
        return not_an_object(record, source_file, fmt)
    c = FieldCollector()
    post_id = c.take("id", parse_id, obj.get("id"))
    created_at, created_raw = parse_timestamp(obj.get("createTime"))
    author = c.take("author", _author, obj.get("author"))
    caption = c.take("desc", parse_text, obj.get("desc"))
    music = c.take("music", parse_object, obj.get("music")) or {}
    music_id = c.take("music.id", parse_id, music.get("id"))
    music_title = c.take("music.title", parse_text, music.get("title"))
    music_original = c.take("music.original", parse_flag, music.get("original"))
    duet_info = c.take("duetInfo", parse_object, obj.get("duetInfo")) or {}
    duet_from = c.take("duetInfo.duetFromId", parse_duet_id, duet_info.get("duetFromId"))
    stats = c.take("stats", parse_object, obj.get("stats")) or {}
    plays = c.take("stats.playCount", parse_count, stats.get("playCount"))
    likes = c.take("stats.diggCount", parse_count, stats.get("diggCount"))
    shares = c.take("stats.shareCount", parse_count, stats.get("shareCount"))
    comments = c.take("stats.commentCount", parse_count, stats.get("commentCount"))
    video = c.take("video", parse_object, obj.get("video")) or {}
    duration = c.take("video.duration", parse_duration, video.get("duration"))
    media_path = c.take("media_path", parse_text, obj.get("media_path"))

    extra_users: list[str] = []
    extra_tags: list[str] = []
    for i, item in enumerate(c.take("textExtra", parse_list, obj.get("textExtra")) or []):
        entry = c.take(f"textExtra[{i}]", parse_object, item) or {}
        tag = c.take(f"textExtra[{i}].hashtagName", parse_text, entry.get("hashtagName"))
        extra_tags.append(clean_hashtag(tag) or "")
        extra_users.append(c.take(f"textExtra[{i}].userUniqueId", parse_name, entry.get("userUniqueId")) or "")

    if c.errors:
        return c.problem(source_file, record.line, record.index, record.raw, post_id, fmt)
    return CanonicalPost(
        post_id=post_id,
        author=author,
        created_at=created_at,
        created_at_raw=created_raw,
        caption=caption,
        platform_music_id=music_id,
        music_title=music_title,
        music_original=music_original,
        duet_from_post_id=duet_from,
        mentions=unique(caption_mentions(caption) + extra_users),
        hashtags=unique(caption_hashtags(caption) + extra_tags),
        plays=plays,
        likes=likes,
        shares=shares,
        comments=comments,
        duration_s=duration,
        media_path=media_path,
        source_format=fmt,
        source_file=source_file,
        source_line=record.line,
        source_record=record.index,
        raw=record.raw,
    )
