"""build_cascades: cascade trees and their metrics for every tree the day's window touched."""

from __future__ import annotations

from datetime import date

from pipelines import warehouse
from pipelines.lineage import window_start
from pipelines.lineage.cascades import refresh_cascades
from pipelines.runlog import StageResult, stage_run


def run(day: date, run_id: str = "cli") -> StageResult:
    first_day = window_start(day)
    with stage_run("build_cascades", day, run_id) as (con, result):
        with warehouse.transaction(con):
            trees = refresh_cascades(con, first_day, day)
        result.rows_in = con.execute(
            "SELECT count(*) FROM lineage_paths WHERE day BETWEEN $a AND $b", {"a": first_day, "b": day}
        ).fetchall()[0][0]
        result.rows_out = trees
        if result.rows_in == 0 and trees == 0:
            result.status = "no_data"
        result.message = f"partitions {first_day}…{day}: {trees} cascades recomputed"
        return result
