"""Lineage: evidence → lineage_edges (edges.py) → lineage_paths (paths.py) → cascades (cascades.py, metrics.py).

A partition is the day its data was *collected* and may hold posts of any age (a sound's page, a month-long
search). A run for partition D recomputes what D's posts can change, not a window of days: the posts they can
become the parent of or relink (same music id, same canonical sound, an explicit duet id or a caption naming
them, created at or after the earliest of them), the children of posts D no longer holds, and everything below
(sql/link_lineage/scope.sql). Cascades and adoption follow the trees and sounds those posts touch, from the
earliest `created_day` on (docs/lineage.md, "What a run recomputes").
"""

from __future__ import annotations

from datetime import date

import duckdb

from pipelines import warehouse


def build_scope(con: duckdb.DuckDBPyConnection, day: date, first_day: date | None = None) -> tuple[int, date | None]:
    """Create the temp tables scope_seed and lineage_scope for partition `day` (partitions first_day … day; a DAG
    run uses one) (sql/link_lineage/scope.sql); returns how many posts are in scope and the earliest day they were
    created (None for an empty scope)."""
    warehouse.run_sql(con, "link_lineage/scope", {"first_day": first_day or day, "day": day})
    n, first = con.execute("SELECT count(*), CAST(min(created_at) AS DATE) FROM lineage_scope").fetchall()[0]
    return n, first


def drop_scope(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("DROP TABLE IF EXISTS lineage_scope")
    con.execute("DROP TABLE IF EXISTS scope_seed")


def scalar(con, query: str, params: dict | None = None):
    """The single value of `query`, with the result fully consumed (DuckDB 2 refuses new work on a connection
    that still holds a half-read result)."""
    return con.execute(query, params or {}).fetchall()[0][0]
