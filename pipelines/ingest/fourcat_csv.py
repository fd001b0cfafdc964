"""4CAT's TikTok CSV and Zeeschuimer's CSV export: the same columns, from the same `map_item`.

4CAT (datasources/tiktok/search_tiktok.py, `map_item`) maps each item to id, thread_id, author, author_full,
body, timestamp ("%Y-%m-%d %H:%M:%S" UTC), unix_timestamp, is_duet ("yes"/"no"), music_name, music_id,
tiktok_url, likes, comments, shares, plays, hashtags (comma-joined), ...; its CSV is comma-separated.
Zeeschuimer's "CSV" download (popup/interface.js get_csv_blob, CSV_SEPARATOR = ';') writes the same mapping,
auto-synced from 4CAT (modules/tiktok.js), separated by `;`. Older 4CAT files have `timestamp` as epoch
seconds and is_duet True/False. A duet is only a flag here: its origin is unknown (NULL) and left to audio.
"""

from __future__ import annotations

from pipelines.ingest import csv_rows
from pipelines.ingest.common import (
    FieldCollector,
    caption_hashtags,
    caption_mentions,
    clean_hashtag,
    parse_count,
    parse_id,
    parse_name,
    parse_timestamp,
    unique,
)
from pipelines.ingest.csv_rows import CsvRow, cell
from pipelines.records import CanonicalPost, RecordProblem

FOURCAT = "fourcat_csv"
ZEESCHUIMER = "zeeschuimer_csv"
DELIMITER = {FOURCAT: ",", ZEESCHUIMER: ";"}
SIGNATURE = ("thread_id", "body", "tiktok_url")
REQUIRED = ("id", "author", "timestamp")


def read_csv(text: str, source_file: str, fmt: str) -> tuple[list[CanonicalPost], list[RecordProblem]]:
    delimiter = DELIMITER[fmt]
    csv_rows.require(csv_rows.header_of(text, delimiter) or [], REQUIRED, source_file, fmt)
    return csv_rows.map_rows(text, source_file, fmt, delimiter, lambda row: _to_post(row, source_file, fmt))


def _to_post(row: CsvRow, source_file: str, fmt: str) -> CanonicalPost | RecordProblem:
    cells = row.cells
    c = FieldCollector()
    post_id = c.take("id", parse_id, cell(cells.get("id")))
    music_id = c.take("music_id", parse_id, cell(cells.get("music_id")))
    plays = c.take("plays", parse_count, cell(cells.get("plays")))
    likes = c.take("likes", parse_count, cell(cells.get("likes")))
    shares = c.take("shares", parse_count, cell(cells.get("shares")))
    comments = c.take("comments", parse_count, cell(cells.get("comments")))
    if c.errors:
        return c.problem(source_file, row.line, row.index, row.raw, post_id, fmt)
    when = cell(cells.get("unix_timestamp")) or cell(cells.get("timestamp"))
    created_at, created_raw = parse_timestamp(when)
    caption = cell(cells.get("body"))
    tags = [clean_hashtag(t) or "" for t in (cell(cells.get("hashtags")) or "").split(",")]
    return CanonicalPost(
        post_id=post_id,
        author=parse_name(cell(cells.get("author"))),
        created_at=created_at,
        created_at_raw=created_raw,
        caption=caption,
        platform_music_id=music_id,
        music_title=cell(cells.get("music_name")),
        music_original=None,
        duet_from_post_id=None,  # is_duet is a yes/no flag: the origin is not in the file
        mentions=caption_mentions(caption),
        hashtags=unique(caption_hashtags(caption) + tags),
        plays=plays,
        likes=likes,
        shares=shares,
        comments=comments,
        media_path=None,
        source_format=fmt,
        source_file=source_file,
        source_line=row.line,
        source_record=row.index,
        raw=row.raw,
    )
