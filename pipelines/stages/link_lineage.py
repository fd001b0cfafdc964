"""link_lineage: evidence (post_sounds + metadata) → lineage_edges → lineage_paths for the day's window."""

from __future__ import annotations

from datetime import date

from pipelines import warehouse
from pipelines.lineage import window_start
from pipelines.lineage.edges import link_edges
from pipelines.lineage.paths import refresh_paths
from pipelines.runlog import StageResult, stage_run


def run(day: date, run_id: str = "cli") -> StageResult:
    first_day = window_start(day)
    with stage_run("link_lineage", day, run_id) as (con, result):
        with warehouse.transaction(con):
            counts = link_edges(con, first_day, day)
            paths = refresh_paths(con, first_day, day)
        result.rows_in = counts["posts"]
        result.rows_out = counts["edges"]
        if counts["posts"] == 0:
            result.status = "no_data"
        by_relation = ", ".join(f"{n} {rel}" for rel, n in sorted(counts["by_relation"].items()))
        result.message = (
            f"partitions {first_day}…{day}: {counts['posts']} posts, "
            f"{counts['edges']} edges ({by_relation or 'none'}), "
            f"{counts['rejected']} claims rejected, {paths} paths"
        )
        return result
