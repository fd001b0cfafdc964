"""The DuckDB warehouse: one file, schema from sql/, one transaction per stage and day.

DuckDB allows a single writing process; a task that finds the file locked waits and retries instead of
failing the run (another day's task or an analyst's write session may hold it for a moment).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb
import polars as pl

from pipelines import faults
from pipelines.settings import PROJECT_ROOT, warehouse_path

log = logging.getLogger(__name__)
SQL_DIR = PROJECT_ROOT / "sql"
# DDL lives in sql/schema/<layer>/, applied in this order, files inside a layer in name order; the statements
# each stage runs live in sql/<stage>/.
SCHEMA_LAYERS = ("staging", "core", "marts")


def sql_text(name: str) -> str:
    """The text of sql/<name>.sql: statements live in files, not in Python strings."""
    path = SQL_DIR / f"{name}.sql"
    return path.read_text(encoding="utf-8")


def _is_lock_error(exc: Exception) -> bool:
    text = str(exc).lower()
    return "lock" in text and ("conflicting" in text or "could not set lock" in text)


def connect(path: Path | None = None, *, read_only: bool = False, wait_s: float = 120.0) -> duckdb.DuckDBPyConnection:
    """Open the warehouse, creating its folder and schema; wait up to `wait_s` for another writer.

    A writer also brings the schema up to date (pending migrations, then the DDL: pipelines.migrations), so
    `trendtrace init` and every stage start on the current shape; readers see the file as it is."""
    target = Path(path) if path else warehouse_path()
    if not read_only:
        target.parent.mkdir(parents=True, exist_ok=True)
    deadline = time.monotonic() + wait_s
    delay = 0.2
    while True:
        try:
            con = duckdb.connect(str(target), read_only=read_only)
            break
        except duckdb.IOException as exc:
            if not _is_lock_error(exc) or time.monotonic() >= deadline:
                raise
            time.sleep(delay)
            delay = min(delay * 2, 5.0)
    con.execute("SET TimeZone = 'UTC'")
    if not read_only:
        from pipelines.migrations import upgrade  # here: migrations builds on this module

        try:
            upgrade(con)
        except BaseException:
            con.close()
            raise
    return con


def apply_schema(con: duckdb.DuckDBPyConnection) -> None:
    """Create every table/view from sql/schema/<layer>/*.sql (idempotent: IF NOT EXISTS / OR REPLACE). Changes to
    tables that already exist are migrations (pipelines.migrations), which `connect` runs before this."""
    for layer in SCHEMA_LAYERS:
        folder = SQL_DIR / "schema" / layer
        if folder.is_dir():
            for file in sorted(folder.glob("*.sql")):
                con.execute(file.read_text(encoding="utf-8"))


@contextmanager
def transaction(con: duckdb.DuckDBPyConnection) -> Iterator[duckdb.DuckDBPyConnection]:
    """BEGIN … COMMIT, rolled back on any error, so a killed or failed stage leaves no half-written day."""
    con.execute("BEGIN TRANSACTION")
    try:
        yield con
    except BaseException:
        try:
            con.execute("ROLLBACK")
        except Exception:  # e.g. the connection died with the error (a full disk): the original error matters
            log.warning("ROLLBACK failed after an error in a transaction", exc_info=True)
        raise
    commit(con)


def commit(con: duckdb.DuckDBPyConnection) -> None:
    """COMMIT `con`'s open transaction: every commit of the warehouse (and of the published copy) comes here, the
    one place the fault tests' injection point lives (pipelines.faults; inert unless TRENDTRACE_FAULT is set)."""
    faults.commit(con)


def run_sql(
    con: duckdb.DuckDBPyConnection,
    name: str,
    params: dict[str, Any] | None = None,
    frames: dict[str, Any] | None = None,
) -> duckdb.DuckDBPyConnection:
    """Execute every statement of sql/<name>.sql, each bound to the parameters it names.

    `frames` (name -> polars/pandas/arrow frame) are visible to the statements as views under those names
    for the duration of the call: stages hand DuckDB whole frames, never rows one by one.
    """
    params = params or {}
    frames = frames or {}
    for view, frame in frames.items():
        con.register(view, frame)
    try:
        for statement in con.extract_statements(sql_text(name)):
            con.execute(statement, {k: params[k] for k in statement.named_parameters})
    finally:
        for view in frames:
            con.unregister(view)
    return con


def fetch_rows(
    con: duckdb.DuckDBPyConnection,
    name: str,
    params: dict[str, Any] | None = None,
    frames: dict[str, Any] | None = None,
) -> list[tuple]:
    """All rows of the one query in sql/<name>.sql, with `frames` visible as views while it runs (as in
    `run_sql`); fetched before the views go, so the result never outlives what it reads."""
    params = params or {}
    frames = frames or {}
    for view, frame in frames.items():
        con.register(view, frame)
    try:
        (statement,) = con.extract_statements(sql_text(name))
        return con.execute(statement, {k: params[k] for k in statement.named_parameters}).fetchall()
    finally:
        for view in frames:
            con.unregister(view)


def query_frame(
    con: duckdb.DuckDBPyConnection,
    name: str,
    params: dict[str, Any] | None = None,
    frames: dict[str, Any] | None = None,
) -> pl.DataFrame:
    """The result of the one query in sql/<name>.sql as a polars frame, with `frames` visible as views while it
    runs (as in `fetch_rows`): for results read by column (candidates, lists), materialised before the views go."""
    params = params or {}
    frames = frames or {}
    for view, frame in frames.items():
        con.register(view, frame)
    try:
        (statement,) = con.extract_statements(sql_text(name))
        return con.sql(statement, params={k: params[k] for k in statement.named_parameters}).pl()
    finally:
        for view in frames:
            con.unregister(view)
