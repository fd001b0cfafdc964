"""lineage_paths: each post's root and root → post path, by a recursive CTE over the window's subtrees."""

from __future__ import annotations

from datetime import date

import duckdb

from pipelines import warehouse

POST_SOUNDS_FALLBACK = "ops/lineage_post_sounds_fallback"


def ensure_post_sounds(con: duckdb.DuckDBPyConnection) -> bool:
    """True when the sound engine's post_sounds exists; otherwise an empty stand-in so lineage runs on metadata."""
    exists = con.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE table_name = 'post_sounds' AND NOT temporary"
    ).fetchall()[0][0] or con.execute("SELECT count(*) FROM duckdb_views() WHERE view_name = 'post_sounds'").fetchall()[0][0]
    if not exists:
        warehouse.run_sql(con, POST_SOUNDS_FALLBACK)
    return bool(exists)


def refresh_paths(con: duckdb.DuckDBPyConnection, first_day: date, day: date) -> int:
    """Recompute the paths of partitions first_day … day and of their descendants; returns the window's paths."""
    warehouse.run_sql(con, "ops/lineage_paths_refresh", {"first_day": first_day, "day": day})
    return con.execute(
        "SELECT count(*) FROM lineage_paths WHERE day BETWEEN $a AND $b", {"a": first_day, "b": day}
    ).fetchall()[0][0]
