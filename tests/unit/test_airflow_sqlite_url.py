"""The embedded Airflow's SQLite URL makes a writer wait for the lock past pysqlite's 5 s default: under load, a
5 s wait ran out and killed the standalone's scheduler (pipelines/settings.py, SQLITE_BUSY_TIMEOUT_S)."""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError

from pipelines.settings import SQLITE_BUSY_TIMEOUT_S, airflow_sqlite_url

HOLD_S = 7  # longer than pysqlite's default busy timeout (5 s), far shorter than ours


def test_a_writer_waits_out_a_lock_held_longer_than_the_pysqlite_default(tmp_path: Path) -> None:
    url = airflow_sqlite_url(tmp_path)
    assert url.startswith(f"sqlite:///{tmp_path / 'airflow.db'}")
    holder = sqlite3.connect(tmp_path / "airflow.db", isolation_level=None, check_same_thread=False)
    holder.execute("PRAGMA journal_mode=WAL")  # as Airflow sets it on every connection
    holder.execute("CREATE TABLE job (id INTEGER PRIMARY KEY, state TEXT)")
    holder.execute("BEGIN IMMEDIATE")  # the write lock, as a slow writer of another process holds it
    holder.execute("INSERT INTO job (state) VALUES ('holder')")

    def release() -> None:
        time.sleep(HOLD_S)
        holder.execute("COMMIT")

    threading.Thread(target=release, daemon=True).start()
    # Airflow builds its engine this way (airflow/settings.py: the URL, plus check_same_thread for SQLite)
    engine = create_engine(url, connect_args={"check_same_thread": False})
    try:
        with engine.begin() as con:
            con.execute(text("INSERT INTO job (state) VALUES ('waiter')"))  # blocks until the holder commits
        with engine.connect() as con:
            states = [r[0] for r in con.execute(text("SELECT state FROM job ORDER BY id"))]
    finally:
        engine.dispose()
        holder.close()
    assert states == ["holder", "waiter"]
    assert SQLITE_BUSY_TIMEOUT_S > HOLD_S


def test_without_the_timeout_the_same_wait_fails(tmp_path: Path) -> None:
    """The control: pysqlite's default gives up while the lock is still held, so the test above can fail."""
    holder = sqlite3.connect(tmp_path / "airflow.db", isolation_level=None)
    holder.execute("CREATE TABLE job (id INTEGER PRIMARY KEY, state TEXT)")
    holder.execute("BEGIN IMMEDIATE")
    engine = create_engine(f"sqlite:///{tmp_path / 'airflow.db'}?timeout=0.2")
    try:
        with pytest.raises(OperationalError, match="database is locked"), engine.begin() as con:
            con.execute(text("INSERT INTO job (state) VALUES ('waiter')"))
    finally:
        engine.dispose()
        holder.execute("ROLLBACK")
        holder.close()
