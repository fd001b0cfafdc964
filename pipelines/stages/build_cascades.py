"""build_cascades: cascade trees and their metrics for every tree the partition's posts touched (any age)."""

from __future__ import annotations

from datetime import date

from pipelines import warehouse
from pipelines.lineage import build_scope, drop_scope
from pipelines.lineage.cascades import refresh_cascades
from pipelines.runlog import StageResult, stage_run


def run(day: date, run_id: str = "cli") -> StageResult:
    with stage_run("build_cascades", day, run_id) as (con, result):
        with warehouse.transaction(con):
            in_scope, first = build_scope(con, day)
            trees = refresh_cascades(con)
            drop_scope(con)
        result.rows_in = in_scope
        result.rows_out = trees
        if result.rows_in == 0 and trees == 0:
            result.status = "no_data"
        result.message = (
            f"partition {day}: {in_scope} posts in scope (created from {first or '-'}), {trees} cascades recomputed"
        )
        return result
