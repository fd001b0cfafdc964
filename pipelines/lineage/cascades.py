"""cascades: one row per tree, recomputed for the trees the latest window touched."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import duckdb

from pipelines import warehouse
from pipelines.lineage.metrics import cascade_virality


def refresh_cascades(con: duckdb.DuckDBPyConnection, first_day: date, day: date) -> int:
    """Replace the rows of every tree holding a post of partitions first_day … day, or still growing since
    (a post relinked out of a tree shrinks it); returns the number of trees written."""
    lookback = (day - first_day).days
    since = datetime.combine(first_day - timedelta(days=lookback + 1), time.min)
    warehouse.run_sql(con, "build_cascades/affected", {"first_day": first_day, "day": day, "since": since})
    nodes = con.sql(warehouse.sql_text("build_cascades/tree_nodes")).pl()
    virality = cascade_virality(nodes)
    warehouse.run_sql(con, "build_cascades/replace", frames={"cascade_virality": virality})
    return virality.height
