"""Reading a test's warehouse file the way an analyst would: read-only, connection closed after each query."""

from __future__ import annotations

from pathlib import Path

import duckdb


def query(warehouse: Path, sql: str, params: list | None = None) -> list[tuple]:
    """All rows of `sql` (values bound from `params`) on a read-only connection to `warehouse`."""
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()
