"""lineage_paths: each post's root and root → post path, by a recursive CTE over the scope's subtrees."""

from __future__ import annotations

import duckdb

from pipelines import warehouse


def refresh_paths(con: duckdb.DuckDBPyConnection) -> int:
    """Recompute the paths of the posts in lineage_scope and of their descendants (and drop those of posts
    the partition no longer holds); returns how many posts' paths were recomputed."""
    warehouse.run_sql(con, "link_lineage/paths_refresh")
    n = con.execute("SELECT count(*) FROM lp_affected").fetchall()[0][0]
    con.execute("DROP TABLE lp_affected")
    return n
