"""Turn contract violations into quarantine rows (the first violation names the rule; all are kept)."""

from __future__ import annotations

from datetime import date

import polars as pl

from pipelines.contracts import ROW_COLUMN, Violation
from pipelines.frames import QUARANTINE_SCHEMA, utcnow


def quarantine_frame(
    day: date, stage: str, rejected: pl.DataFrame, violations: dict[int, list[Violation]]
) -> pl.DataFrame:
    """`rejected` holds the staged columns of the failing rows (source_*, post_id, raw) and `_row`."""
    firsts = {row: v[0] for row, v in violations.items()}
    rows = rejected.get_column(ROW_COLUMN).to_list()
    extra = pl.DataFrame(
        {
            ROW_COLUMN: rows,
            "field": [firsts[r].field for r in rows],
            "rule": [firsts[r].rule for r in rows],
            "reason": [firsts[r].reason for r in rows],
            "violations": [
                [{"rule": v.rule, "field": v.field, "reason": v.reason} for v in violations[r]] for r in rows
            ],
        },
        schema={ROW_COLUMN: rejected.schema[ROW_COLUMN], "field": pl.String(), "rule": pl.String(),
                "reason": pl.String(), "violations": QUARANTINE_SCHEMA["violations"]},
    )
    frame = rejected.join(extra, on=ROW_COLUMN, how="left").with_columns(
        pl.lit(day).alias("ingest_day"),
        pl.lit(stage).alias("stage"),
        pl.lit(utcnow()).alias("quarantined_at"),
    )
    return frame.select([pl.col(c).cast(t) for c, t in QUARANTINE_SCHEMA.items()])


def location_series(frame: pl.DataFrame) -> pl.Series:
    """'file line N' (or 'file record N') for every row: the prefix of every reason."""
    return frame.select(
        pl.concat_str(
            pl.col("source_file"),
            pl.when(pl.col("source_line").is_not_null())
            .then(pl.lit(" line ") + pl.col("source_line").cast(pl.String))
            .otherwise(pl.lit(" record ") + pl.col("source_record").cast(pl.String)),
        )
    ).to_series()
