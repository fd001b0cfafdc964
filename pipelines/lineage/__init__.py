"""Lineage: evidence → lineage_edges (edges.py) → lineage_paths (paths.py) → cascades (cascades.py, metrics.py).

Every step recomputes a sliding window of partitions, not one day: a post may arrive up to
`late_arrival_days` after it was created, and when it does it can become the parent (or the first post of a
platform sound) of posts already linked. Its descendants were created after it, so they sit in partitions
at most `late_arrival_days` older than its own: recomputing that window is enough, and work grows with the
daily volume, not with history.
"""

from __future__ import annotations

from datetime import date, timedelta

from pipelines import settings


def window_start(day: date) -> date:
    """First partition a run for `day` recomputes (late arrivals can relink posts this far back)."""
    return day - timedelta(days=settings.contract_settings().late_arrival_days)


def scalar(con, query: str, params: dict | None = None):
    """The single value of `query`, with the result fully consumed (DuckDB 2 refuses new work on a connection
    that still holds a half-read result)."""
    return con.execute(query, params or {}).fetchall()[0][0]
