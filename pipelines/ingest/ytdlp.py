"""yt-dlp `--write-info-json` (and `-j`/`--dump-json` lines) for TikTok videos -> CanonicalPost.

Fields as yt-dlp's TikTok extractor fills them (yt_dlp/extractor/tiktok.py, `_parse_aweme_video_web` /
`_parse_aweme_video_app`): id, timestamp (createTime), uploader (the @name), channel (display name),
description (desc), track/artists (music title/author), duration, view_count, like_count, comment_count,
repost_count (shares). YoutubeDL.sanitize_info adds `_type`, `_version`, `epoch`; every result carries
`extractor_key` and `webpage_url`. There is no music id and no duet origin: both load as NULL.
Media: the default output template `%(title)s [%(id)s].%(ext)s` (yt_dlp/utils/_utils.py DEFAULT_OUTTMPL) puts
the video beside `<same stem>.info.json`; the record's media is that file, else any media file named
`... [<id>].<ext>` in the partition.
"""

from __future__ import annotations

from pipelines.ingest.common import (
    FieldCollector,
    JsonRecord,
    caption_hashtags,
    caption_mentions,
    map_records,
    not_an_object,
    parse_count,
    parse_duration,
    parse_id,
    parse_name,
    parse_text,
    parse_timestamp,
)
from pipelines.media_paths import PartitionFiles
from pipelines.records import CanonicalPost, RecordProblem

FORMAT = "ytdlp_info_json"
SIGNATURE = ("extractor_key", "webpage_url")
REQUIRED = ("id", "timestamp")
INFO_SUFFIX = ".info.json"


def read_records(
    records: list[JsonRecord], source_file: str, files: PartitionFiles | None
) -> tuple[list[CanonicalPost], list[RecordProblem]]:
    return map_records(records, REQUIRED, source_file, FORMAT, lambda record, name: to_post(record, name, files))


def media_for(source_file: str, post_id: str | None, ext: str | None, files: PartitionFiles | None) -> str | None:
    """The media yt-dlp wrote for this info file: `<stem>.<ext>` beside it, else `... [<id>].<any media ext>`."""
    if files is None:
        return None
    folder, _, name = source_file.rpartition("/")
    prefix = f"{folder}/" if folder else ""
    if name.endswith(INFO_SUFFIX):
        stem = name[: -len(INFO_SUFFIX)]
        if ext and f"{prefix}{stem}.{ext}" in files.media:
            return f"{prefix}{stem}.{ext}"
        beside = files.by_stem.get(stem)
        if beside:
            return beside
    return files.by_bracket_id.get(post_id) if post_id else None


def to_post(record: JsonRecord, source_file: str, files: PartitionFiles | None) -> CanonicalPost | RecordProblem:
    obj = record.value
    if not isinstance(obj, dict):
        return not_an_object(record, source_file, FORMAT)
    c = FieldCollector()
    post_id = c.take("id", parse_id, obj.get("id"))
    created_at, created_raw = parse_timestamp(obj.get("timestamp"))
    author = c.take("uploader", parse_name, obj.get("uploader"))
    caption = c.take("description", parse_text, obj.get("description"))
    track = c.take("track", parse_text, obj.get("track"))
    plays = c.take("view_count", parse_count, obj.get("view_count"))
    likes = c.take("like_count", parse_count, obj.get("like_count"))
    shares = c.take("repost_count", parse_count, obj.get("repost_count"))
    comments = c.take("comment_count", parse_count, obj.get("comment_count"))
    duration = c.take("duration", parse_duration, obj.get("duration"))
    ext = c.take("ext", parse_text, obj.get("ext"))
    if c.errors:
        return c.problem(source_file, record.line, record.index, record.raw, post_id, FORMAT)
    return CanonicalPost(
        post_id=post_id,
        author=author,
        created_at=created_at,
        created_at_raw=created_raw,
        caption=caption,
        platform_music_id=None,  # yt-dlp keeps the music's title and artist, not its id
        music_title=track,
        music_original=None,
        duet_from_post_id=None,
        mentions=caption_mentions(caption),
        hashtags=caption_hashtags(caption),
        plays=plays,
        likes=likes,
        shares=shares,
        comments=comments,
        duration_s=duration,
        media_path=media_for(source_file, post_id, ext, files),
        source_format=FORMAT,
        source_file=source_file,
        source_line=record.line,
        source_record=record.index,
        raw=record.raw,
    )
