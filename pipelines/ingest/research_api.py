"""TikTok Research API video objects -> CanonicalPost."""

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
    parse_duration,
    parse_id,
    parse_list,
    parse_name,
    parse_text,
    parse_timestamp,
    unique,
)
from pipelines.records import CanonicalPost, RecordProblem

FORMAT = "research_api"
EARLY_FORMAT = "research_api_early"
REQUIRED = ("id", "create_time", "username")
# The early documented shape (and clients that pass it through, e.g. traktok's `video_id` handling) names the
# video `video_id` and carries no `username`: the author is NULL and the day relies on the rest.
EARLY_REQUIRED = ("video_id", "create_time")
# Keys that tell a Research API video apart from a web item (detection counts how many appear).
SHAPE_KEYS = frozenset(
    {
        "create_time",
        "username",
        "video_description",
        "music_id",
        "hashtag_names",
        "view_count",
        "like_count",
        "share_count",
        "comment_count",
        "video_duration",
        "region_code",
    }
)


def read_records(records: list[JsonRecord], source_file: str) -> tuple[list[CanonicalPost], list[RecordProblem]]:
    """Map every record of one file; raises SchemaDriftError when a required key is gone from all of them."""
    return map_records(records, REQUIRED, source_file, FORMAT, to_post)


def read_early_records(
    records: list[JsonRecord], source_file: str
) -> tuple[list[CanonicalPost], list[RecordProblem]]:
    """The early shape: `video_id` for the id, no `username`."""
    return map_records(records, EARLY_REQUIRED, source_file, EARLY_FORMAT,
                       lambda record, name: to_post(record, name, EARLY_FORMAT))


def _hashtag_names(value: Any) -> list[str]:
    names = parse_list(value)
    for name in names:
        if not isinstance(name, str):
            raise BadValue(f"expected a list of text, found {type(name).__name__} {name!r}")
    return [clean_hashtag(name) or "" for name in names]


def to_post(record: JsonRecord, source_file: str, fmt: str = FORMAT) -> CanonicalPost | RecordProblem:
    obj = record.value
    if not isinstance(obj, dict):
        return not_an_object(record, source_file, fmt)
    c = FieldCollector()
    id_key = "video_id" if "id" not in obj and "video_id" in obj else "id"
    post_id = c.take(id_key, parse_id, obj.get(id_key))
    created_at, created_raw = parse_timestamp(obj.get("create_time"))
    author = c.take("username", parse_name, obj.get("username"))
    caption = c.take("video_description", parse_text, obj.get("video_description"))
    music_id = c.take("music_id", parse_id, obj.get("music_id"))
    tags = c.take("hashtag_names", _hashtag_names, obj.get("hashtag_names")) or []
    plays = c.take("view_count", parse_count, obj.get("view_count"))
    likes = c.take("like_count", parse_count, obj.get("like_count"))
    shares = c.take("share_count", parse_count, obj.get("share_count"))
    comments = c.take("comment_count", parse_count, obj.get("comment_count"))
    duration = c.take("video_duration", parse_duration, obj.get("video_duration"))
    media_path = c.take("media_path", parse_text, obj.get("media_path"))

    if c.errors:
        return c.problem(source_file, record.line, record.index, record.raw, post_id, fmt)
    return CanonicalPost(
        post_id=post_id,
        author=author,
        created_at=created_at,
        created_at_raw=created_raw,
        caption=caption,
        platform_music_id=music_id,
        music_title=None,
        music_original=None,
        duet_from_post_id=None,
        mentions=caption_mentions(caption),
        hashtags=unique(caption_hashtags(caption) + tags),
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
