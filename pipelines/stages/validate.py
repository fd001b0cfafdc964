"""validate: the posts contract and the media-location contract turn stg_posts into posts | post_stats | quarantine.

A partition is the day its data was *collected*: a post may be older than it by any amount; only a date beyond
the partition day + early_arrival_days (clock skew) is refused (`created_at_not_future`). A record whose post id
another partition already owns is a *re-observation*: its counters go to post_stats, the post keeps its one row.
Records in = new posts + re-observations + quarantine (docs/landing.md, "Collections of any age").

validate is the only writer of its tables, validated_posts, validate_quarantine and post_stats; analysts read
the views posts and quarantine, which also account for the fingerprint stage's rejections (docs/landing.md).
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import polars as pl

from pipelines import settings, warehouse
from pipelines.contracts import ROW_COLUMN, validate_rows
from pipelines.media_paths import resolve_media
from pipelines.records import FORMATS_WITHOUT_AUTHOR
from pipelines.runlog import StageResult, stage_run
from pipelines.stages.quarantine_rows import location_series, quarantine_frame

CONTRACT_COLUMNS = [
    ROW_COLUMN, "post_id", "duplicate_of", "created_at", "created_at_raw", "window_note",
    "author", "author_expected", "plays", "likes", "shares", "comments", "media_path", "declared_media_path",
    "media_status", "media_problem",
]


def latest_created_at(day: date, cs: settings.ContractSettings) -> datetime:
    """The latest created_at a post collected on `day` may have: the end of day + early_arrival_days (clock skew,
    time zones). There is no earliest: a collection (a sound's page, a month-long search) holds posts of any age."""
    return datetime.combine(day + timedelta(days=1 + cs.early_arrival_days), time.min) - timedelta(microseconds=1)


def with_media_locations(staged: pl.DataFrame, partition, extensions: tuple[str, ...]) -> pl.DataFrame:
    locations = [
        resolve_media(partition, pid, declared, extensions)
        for pid, declared in zip(staged["post_id"].to_list(), staged["media_path"].to_list(), strict=False)
    ]
    return staged.with_columns(
        pl.Series("media_status", [m.status for m in locations], dtype=pl.String),
        pl.Series("media_path", [m.path for m in locations], dtype=pl.String),
        pl.Series("declared_media_path", staged["media_path"]),
        pl.Series("media_problem", [m.problem for m in locations], dtype=pl.String),
    )


def run(day: date, run_id: str = "cli") -> StageResult:
    import pandas as pd

    from pipelines.audio.analysis import file_sha256

    cs = settings.contract_settings()
    partition = settings.partition_dir(day)
    window_end = latest_created_at(day, cs)
    with stage_run("validate", day, run_id) as (con, result):
        staged = con.sql(warehouse.sql_text("validate/validate_candidates"), params={"day": day}).pl()
        staged = with_media_locations(staged, partition, cs.media_extensions).with_columns(
            pl.lit(
                f"partition dt={day} (collected that day) accepts posts created up to {window_end:%Y-%m-%d %H:%M} UTC"
            ).alias("window_note"),
            (~pl.col("source_format").is_in(sorted(FORMATS_WITHOUT_AUTHOR))).alias("author_expected"),
        )
        location = location_series(staged)
        frame = staged.select(CONTRACT_COLUMNS).to_pandas()
        frame["created_at"] = pd.to_datetime(frame["created_at"]).dt.tz_localize("UTC")
        loc = pd.Series(location.to_list(), index=frame.index)
        violations = validate_rows(
            frame, "posts",
            {"window_end": pd.Timestamp(window_end, tz="UTC")},
            location=loc,
        )
        # media is the owning partition's concern: a re-observation (counters only) may come without its file
        owned = staged["owned_by"].is_not_null().to_list()
        new_frame = frame[[not o for o in owned]]
        for row, found in validate_rows(new_frame, "media_files", location=loc[new_frame.index]).items():
            violations.setdefault(row, []).extend(found)

        bad_rows = pl.Series(ROW_COLUMN, sorted(violations), dtype=staged.schema[ROW_COLUMN])
        passed = staged.filter(~pl.col(ROW_COLUMN).is_in(bad_rows.implode()))
        rejected = staged.filter(pl.col(ROW_COLUMN).is_in(bad_rows.implode()))
        reobserved = passed.filter(pl.col("owned_by").is_not_null())
        accepted = passed.filter(pl.col("owned_by").is_null())
        accepted = accepted.with_columns(
            pl.Series(
                "audio_sha256", [file_sha256(partition / p) for p in accepted["media_path"].to_list()], dtype=pl.String
            )
        )
        new_quarantine = quarantine_frame(day, "validate", rejected, violations)
        with warehouse.transaction(con):
            warehouse.run_sql(
                con,
                "validate/replace_posts",
                {"day": day},
                frames={"new_posts": accepted, "new_quarantine": new_quarantine, "new_stats": passed},
            )
        result.rows_in = staged.height
        result.rows_out = accepted.height
        result.message = (
            f"{accepted.height} posts valid, {reobserved.height} re-observations of posts other partitions own "
            f"(counters in post_stats), {rejected.height} quarantined"
        )
        return result
