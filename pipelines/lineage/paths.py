"""lineage_paths: each post's root and root → post path, by a recursive CTE over the window's subtrees."""

from __future__ import annotations

from datetime import date

import duckdb

from pipelines import warehouse


def refresh_paths(con: duckdb.DuckDBPyConnection, first_day: date, day: date) -> int:
    """Recompute the paths of partitions first_day … day and of their descendants; returns the window's paths."""
    warehouse.run_sql(con, "link_lineage/paths_refresh", {"first_day": first_day, "day": day})
    return con.execute(
        "SELECT count(*) FROM lineage_paths WHERE day BETWEEN $a AND $b", {"a": first_day, "b": day}
    ).fetchall()[0][0]
