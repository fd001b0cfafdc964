"""Fault injection for the fault tests (tests/integration/test_faults.py): inert unless TRENDTRACE_FAULT is set.

`TRENDTRACE_FAULT=<point>:<stage>[:<n>]` SIGKILLs this process at the n-th (default the first) COMMIT made while
`<stage>` runs (pipelines.runlog.stage_run names the stage; the schema migrations of `connect` do not count):

- `kill_before_commit`: right before COMMIT is sent (the transaction's work is done, nothing is kept);
- `kill_during_commit`: in the middle of COMMIT's write-ahead-log write: the log keeps the first half of what this
  commit appended (a commit here takes about a millisecond, too short to hit from a timer or a watching thread,
  so the torn log a kill mid-write leaves is made exactly), then SIGKILL;
- `kill_after_commit`: right after COMMIT returned (the rows are kept; what the stage does next is not done).

SIGKILL, not an exception: no `finally`, no ROLLBACK, no pipeline_runs row, as when the OOM killer or a lost
machine ends a task. Every COMMIT of the warehouse goes through `commit`, so this is the one place faults live.
"""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path

import duckdb

ENV_FAULT = "TRENDTRACE_FAULT"
POINTS = ("kill_before_commit", "kill_during_commit", "kill_after_commit")

_stage: ContextVar[str | None] = ContextVar("trendtrace_fault_stage", default=None)
_commits: dict[str, int] = {}


@contextmanager
def in_stage(name: str) -> Iterator[None]:
    """Commits made inside this block count as `name`'s (the stage runner wraps each stage's body)."""
    token = _stage.set(name)
    try:
        yield
    finally:
        _stage.reset(token)


def _planned() -> str | None:
    """The point at which this commit must kill the process, None for every commit but the chosen one."""
    spec = os.environ.get(ENV_FAULT)
    stage = _stage.get()
    if not spec or stage is None:
        return None
    point, _, rest = spec.partition(":")
    target, _, nth = rest.partition(":")
    if point not in POINTS or not target:
        raise ValueError(f"{ENV_FAULT}={spec!r}: expected <point>:<stage>[:<n>], point one of {', '.join(POINTS)}")
    if target != stage:
        return None
    _commits[stage] = _commits.get(stage, 0) + 1
    return point if _commits[stage] == int(nth or 1) else None


def _die(how: str) -> None:
    print(f"trendtrace fault: SIGKILL {how} (pid {os.getpid()})", file=sys.stderr, flush=True)
    os.kill(os.getpid(), signal.SIGKILL)


def _wal_sizes(con: duckdb.DuckDBPyConnection) -> dict[Path, int]:
    """Size of the write-ahead log of every database file attached to `con` (-1: none)."""
    files = [Path(p) for (p,) in con.execute(
        "SELECT path FROM duckdb_databases() WHERE path IS NOT NULL AND NOT internal").fetchall()]
    wals = [f.with_name(f.name + ".wal") for f in files]
    return {wal: wal.stat().st_size if wal.exists() else -1 for wal in wals}


def _tear_logs(before: dict[Path, int]) -> str:
    """Cut what the last COMMIT appended to each log in half: the file as a kill in the middle of the write leaves
    it (a prefix of the commit's log records; DuckDB must replay none of them)."""
    torn = []
    for wal, size in before.items():
        now = wal.stat().st_size if wal.exists() else -1
        if now > max(size, 0):
            keep = max(size, 0) + (now - max(size, 0)) // 2
            os.truncate(wal, keep)
            torn.append(f"{wal.name} cut to {keep} of {now} bytes")
    return "; ".join(torn) or "no log grew (checkpointed at commit): a plain kill after COMMIT"


def commit(con: duckdb.DuckDBPyConnection) -> None:
    """COMMIT the open transaction of `con` (with the fault named by TRENDTRACE_FAULT, if it is this commit)."""
    point = _planned()
    if point is None:
        con.execute("COMMIT")
        return
    if point == "kill_before_commit":
        _die("before COMMIT")
    if point == "kill_during_commit":
        before = _wal_sizes(con)
        con.execute("COMMIT")
        _die(f"in the middle of COMMIT's log write ({_tear_logs(before)})")
    con.execute("COMMIT")
    _die("after COMMIT")
