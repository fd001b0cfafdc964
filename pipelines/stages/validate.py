"""validate: the posts contract and the media-location contract turn stg_posts into posts | quarantine.

validate is the only writer of its two tables, validated_posts and validate_quarantine; analysts read the
views posts and quarantine, which also account for the fingerprint stage's rejections (docs/landing.md).
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import polars as pl

from pipelines import settings, warehouse
from pipelines.contracts import ROW_COLUMN, validate_rows
from pipelines.media_paths import resolve_media
from pipelines.runlog import StageResult, stage_run
from pipelines.stages.quarantine_rows import location_series, quarantine_frame

CONTRACT_COLUMNS = [
    ROW_COLUMN, "post_id", "duplicate_of", "ingested_before", "created_at", "created_at_raw", "window_note",
    "author", "plays", "likes", "shares", "comments", "media_path", "declared_media_path", "media_status",
    "media_problem",
]


def acceptance_window(day: date, cs: settings.ContractSettings) -> tuple[datetime, datetime]:
    """[start, end] of created_at a post in partition `day` may have (late arrivals, clock skew)."""
    start = datetime.combine(day - timedelta(days=cs.late_arrival_days), time.min)
    end = datetime.combine(day + timedelta(days=1 + cs.early_arrival_days), time.min) - timedelta(microseconds=1)
    return start, end


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
    window_start, window_end = acceptance_window(day, cs)
    with stage_run("validate", day, run_id) as (con, result):
        staged = con.sql(warehouse.sql_text("validate/validate_candidates"), params={"day": day}).pl()
        staged = with_media_locations(staged, partition, cs.media_extensions).with_columns(
            pl.lit(
                f"partition dt={day} accepts {window_start:%Y-%m-%d %H:%M} to {window_end:%Y-%m-%d %H:%M} UTC"
            ).alias("window_note")
        )
        location = location_series(staged)
        frame = staged.select(CONTRACT_COLUMNS).to_pandas()
        frame["created_at"] = pd.to_datetime(frame["created_at"]).dt.tz_localize("UTC")
        loc = pd.Series(location.to_list(), index=frame.index)
        violations = validate_rows(
            frame, "posts",
            {"window_start": pd.Timestamp(window_start, tz="UTC"), "window_end": pd.Timestamp(window_end, tz="UTC")},
            location=loc,
        )
        for row, found in validate_rows(frame, "media_files", location=loc).items():
            violations.setdefault(row, []).extend(found)

        bad_rows = pl.Series(ROW_COLUMN, sorted(violations), dtype=staged.schema[ROW_COLUMN])
        accepted = staged.filter(~pl.col(ROW_COLUMN).is_in(bad_rows.implode()))
        rejected = staged.filter(pl.col(ROW_COLUMN).is_in(bad_rows.implode()))
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
                frames={"new_posts": accepted, "new_quarantine": new_quarantine},
            )
        result.rows_in = staged.height
        result.rows_out = accepted.height
        result.message = f"{accepted.height} posts valid, {rejected.height} quarantined"
        return result
