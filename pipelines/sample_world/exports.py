"""Write each day's export files in the platforms' own shapes (vectorised with polars).

(a) TikTok-Api / web item JSON (JSON lines or array): string ids, nested author/music/stats, duetInfo,
    textExtra with hashtag and mention spans; (b) Research API video objects: 19-digit ids as JSON numbers,
    flat fields, no duet ids, sometimes wrapped in {"data": {"videos": [...]}}; (c) CSV with a fixed header.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import polars as pl

from .observe import Exposure

CSV_HEADER = ["post_id", "created_at", "author", "caption", "music_id", "music_title", "media_path"]


def web_records(df: pl.DataFrame) -> pl.DataFrame:
    """TikTok-Api item dicts, one row per post, columns in the platform's key order."""
    return df.select(
        pl.col("post_id").alias("id"),
        pl.col("caption").alias("desc"),
        pl.col("created_at").alias("createTime"),
        pl.struct(pl.col("author_id").alias("id"), pl.col("author").alias("uniqueId"),
                  pl.col("nickname"), pl.col("verified")).alias("author"),
        pl.struct(pl.col("followers").alias("followerCount"), pl.col("following").alias("followingCount"))
        .alias("authorStats"),
        pl.struct(pl.col("music_id").alias("id"), pl.col("music_title").alias("title"),
                  pl.col("music_author").alias("authorName"), pl.col("music_original").alias("original"),
                  pl.col("music_duration").alias("duration")).alias("music"),
        pl.struct(pl.col("duet_from_id").alias("duetFromId")).alias("duetInfo"),
        pl.col("textExtra"),
        pl.struct(pl.col("likes").alias("diggCount"), pl.col("shares").alias("shareCount"),
                  pl.col("comments").alias("commentCount"), pl.col("plays").alias("playCount")).alias("stats"),
        pl.struct(pl.col("post_id").alias("id"), pl.col("video_duration").alias("duration"),
                  pl.lit("720p").alias("ratio")).alias("video"),
        pl.lit(False).alias("isAd"),
    )


def research_records(df: pl.DataFrame) -> pl.DataFrame:
    """Research API video objects (ids as 64-bit numbers, never strings)."""
    return df.select(
        pl.col("post_id").cast(pl.UInt64).alias("id"),
        pl.col("created_at").alias("create_time"),
        pl.col("author").alias("username"),
        pl.col("region_code"),
        pl.col("caption").alias("video_description"),
        pl.col("music_id").cast(pl.UInt64).alias("music_id"),
        pl.col("hashtags").alias("hashtag_names"),
        pl.col("plays").alias("view_count"),
        pl.col("likes").alias("like_count"),
        pl.col("shares").alias("share_count"),
        pl.col("comments").alias("comment_count"),
        pl.col("video_duration"),
    )


def csv_records(df: pl.DataFrame) -> pl.DataFrame:
    return df.select(
        "post_id",
        pl.from_epoch("created_at", time_unit="s").dt.strftime("%Y-%m-%dT%H:%M:%SZ").alias("created_at"),
        "author", "caption", "music_id", "music_title", pl.col("media_path"),
    )


def _ndjson(df: pl.DataFrame) -> list[str]:
    buf = io.StringIO()
    df.write_ndjson(buf)
    return buf.getvalue().splitlines()


def write_exports(rows: pl.DataFrame, E: Exposure, landing: Path, start, malformed: set[str],
                  seed: int) -> dict[str, int]:
    """Write every export file of every partition; returns record counts per format.

    `rows`: one row per exported post (plus the extra copies for duplicates) with a `file` column.
    """
    from datetime import timedelta

    counts = {"web": 0, "research": 0, "csv": 0}
    rng = np.random.default_rng([seed, 61])
    for fi, f in enumerate(E.files):
        part = landing / f"dt={start + timedelta(days=f.day)}"
        part.mkdir(parents=True, exist_ok=True)
        df = rows.filter(pl.col("file") == fi).sort(["created_at", "post_id"])
        path = part / f.name
        counts[f.fmt] += df.height
        if f.fmt == "csv":
            csv_records(df).write_csv(path)
            continue
        recs = web_records(df) if f.fmt == "web" else research_records(df)
        if f.variant == "jsonl":
            lines = _ndjson(recs)
            for k, pid in enumerate(df["post_id"].to_list()):
                if pid in malformed:  # a record cut short, as when an export job dies mid-write
                    cut = int(len(lines[k]) * (0.35 + 0.4 * rng.random()))
                    lines[k] = lines[k][:cut]
            path.write_text("".join(line + "\n" for line in lines))
        else:
            buf = io.BytesIO()
            recs.write_json(buf)
            body = buf.getvalue().decode()
            if f.variant == "wrapper":
                body = '{"data":{"videos":' + body + f',"cursor":{df.height},"has_more":false}}}}'
            path.write_text(body + "\n")
    return counts


def export_rows(base: pl.DataFrame, E: Exposure) -> pl.DataFrame:
    """Exported posts with their file, plus the duplicate copies filed elsewhere."""
    exported = base.filter(pl.col("file") >= 0)
    if not E.dup_file:
        return exported
    dup_idx = list(E.dup_file)
    dups = base.filter(pl.col("idx").is_in(dup_idx)).with_columns(
        pl.col("idx").replace_strict(E.dup_file, return_dtype=pl.Int64).alias("file")
    )
    return pl.concat([exported, dups])


def check_json(path: Path) -> int:
    """Count records in an export (tolerating malformed lines): used by tests and sanity checks."""
    text = path.read_text()
    if path.suffix == ".jsonl":
        ok = 0
        for line in text.splitlines():
            try:
                json.loads(line)
                ok += 1
            except json.JSONDecodeError:
                pass
        return ok
    obj = json.loads(text)
    return len(obj["data"]["videos"]) if isinstance(obj, dict) else len(obj)
