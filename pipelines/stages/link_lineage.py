"""link_lineage: evidence (post_sounds + metadata) → lineage_edges → lineage_paths for what the partition's posts
can change (of any age: pipelines/lineage/__init__.py)."""

from __future__ import annotations

from datetime import date

from pipelines import warehouse
from pipelines.lineage import build_scope, drop_scope
from pipelines.lineage.edges import link_edges
from pipelines.lineage.paths import refresh_paths
from pipelines.runlog import StageResult, stage_run


def run(day: date, run_id: str = "cli") -> StageResult:
    with stage_run("link_lineage", day, run_id) as (con, result):
        with warehouse.transaction(con):
            in_scope, first = build_scope(con, day)
            counts = link_edges(con, day, day)
            paths = refresh_paths(con)
            drop_scope(con)
        result.rows_in = counts["posts"]
        result.rows_out = counts["edges"]
        if counts["posts"] == 0 and paths == 0:
            result.status = "no_data"
        by_relation = ", ".join(f"{n} {rel}" for rel, n in sorted(counts["by_relation"].items()))
        result.message = (
            f"partition {day}: {in_scope} posts in scope (created from {first or '-'}), "
            f"{counts['edges']} edges ({by_relation or 'none'}), "
            f"{counts['rejected']} claims rejected, {paths} paths recomputed"
        )
        return result
