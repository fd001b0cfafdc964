"""cascades: one row per tree, recomputed for the trees the partition's run touched."""

from __future__ import annotations

import duckdb

from pipelines import warehouse
from pipelines.lineage.metrics import cascade_virality


def refresh_cascades(con: duckdb.DuckDBPyConnection) -> int:
    """Replace the rows of every tree holding a post of lineage_scope or no longer agreeing with lineage_paths
    (sql/build_cascades/affected.sql); returns the number of trees written."""
    warehouse.run_sql(con, "build_cascades/affected")
    nodes = con.sql(warehouse.sql_text("build_cascades/tree_nodes")).pl()
    virality = cascade_virality(nodes)
    warehouse.run_sql(con, "build_cascades/replace", frames={"cascade_virality": virality})
    return virality.height
