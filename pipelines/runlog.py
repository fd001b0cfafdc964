"""pipeline_runs: every stage execution leaves one row saying what it did, including failures."""

from __future__ import annotations

import errno
import json
import logging
import os
import re
import shutil
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb

from pipelines import faults, settings, warehouse
from pipelines.redact import scrub, scrub_exception

log = logging.getLogger(__name__)


# A day that ran but loaded only part of its input (schema drift) says so first in its ingest message; status and
# the degraded-day notice (alerts/notifier.py) read it there.
DEGRADED_PREFIX = "degraded: "
ENV_LOCK_WAIT_S = "TRENDTRACE_LOCK_WAIT_S"
DEFAULT_LOCK_WAIT_S = 120.0
LOCK_REPORT_EVERY_S = 15.0  # while waiting for the lock, say so again this often
PENDING_DIR = "pending_runs"  # beside the warehouse: runs that could not be recorded because it was locked


class WarehouseLocked(RuntimeError):
    """Another process held the warehouse for longer than the stage would wait."""


class WarehouseDiskFull(RuntimeError):
    """The warehouse could not be written because its disk is full (ENOSPC), said plainly: DuckDB's own error
    may surface as a later, unrelated one (a failed rollback, an invalidated connection)."""


class StageFailed(RuntimeError):
    """A stage's error whose text held a secret, re-raised with the secret scrubbed (`Type: message`)."""


@dataclass
class StageResult:
    """What a stage reports to pipeline_runs (and to Airflow as the task's small XCom value)."""

    task: str
    day: date
    status: str = "success"
    rows_in: int = 0
    rows_out: int = 0
    message: str = ""
    seconds: float = 0.0

    def as_dict(self) -> dict:
        d = asdict(self)
        d["day"] = self.day.isoformat()
        return d


def _utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def record_run(con: duckdb.DuckDBPyConnection, run_id: str, result: StageResult, started_at: datetime) -> None:
    warehouse.run_sql(
        con,
        "runlog/record_run",
        {
            "run_id": run_id,
            "day": result.day,
            "task": result.task,
            "status": result.status,
            "rows_in": result.rows_in,
            "rows_out": result.rows_out,
            "seconds": result.seconds,
            "message": result.message,
            "started_at": started_at,
            "finished_at": _utcnow(),
        },
    )


_DISK_FULL = re.compile(r"no space left on device|disk is full|ENOSPC", re.IGNORECASE)


def _disk_full_cause(exc: BaseException) -> BaseException | None:
    """The exception in `exc`'s chain (itself, its cause or the one it was raised while handling) that says
    the disk is full, None when none does."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if getattr(current, "errno", None) == errno.ENOSPC or _DISK_FULL.search(str(current)):
            return current
        current = current.__cause__ or current.__context__
    return None


def _disk_full_message(path: Path, task: str, day: date, cause: BaseException) -> str:
    try:
        free = f"{shutil.disk_usage(path.parent).free / 1024 / 1024:.1f} MiB free now"
    except OSError:
        free = "free space unknown"
    return (f"WarehouseDiskFull: no space left on the device holding {path} ({free}); {task} for {day} was "
            f"rolled back, nothing of it was kept: free space, then rerun the day. DuckDB said: "
            f"{type(cause).__name__}: {cause}")


def _lock_wait_s() -> float:
    value = os.environ.get(ENV_LOCK_WAIT_S)
    return max(0.0, float(value)) if value else DEFAULT_LOCK_WAIT_S


def _lock_holder(exc: Exception) -> str:
    """Who holds the lock, as DuckDB says it ("... (PID 1234)"), else 'another process'."""
    found = re.search(r"PID (\d+)", str(exc))
    return f"process {found.group(1)}" if found else "another process"


def _is_lock_error(exc: Exception) -> bool:
    text = str(exc).lower()
    return "lock" in text and ("conflicting" in text or "could not set lock" in text)


def _pending_dir(path: Path) -> Path:
    return path.parent / PENDING_DIR


def _connect_or_record(task: str, day: date, run_id: str, warehouse_file: Path | None) -> duckdb.DuckDBPyConnection:
    """Open the warehouse for writing; while another process holds it, wait (up to TRENDTRACE_LOCK_WAIT_S,
    default 120 s) saying so, and if it stays locked, leave the failed run in pending_runs/ (recorded into
    pipeline_runs by the next stage that opens the warehouse) and raise WarehouseLocked."""
    path = Path(warehouse_file) if warehouse_file else settings.warehouse_path()
    wait_s = _lock_wait_s()
    started_at, t0 = _utcnow(), time.monotonic()
    next_report, delay = 0.0, 0.2
    while True:
        try:
            return warehouse.connect(path, wait_s=0)
        except duckdb.Error as exc:
            cause = _disk_full_cause(exc)
            if cause is not None:  # opening writes too (the schema): a full disk fails here already
                message = scrub(_disk_full_message(path, task, day, cause))
                _leave_pending(path, run_id, StageResult(task, day, "failed", message=message[:4000]), started_at)
                log.error("%s", message)
                raise WarehouseDiskFull(message) from None
            if not isinstance(exc, duckdb.IOException) or not _is_lock_error(exc):
                raise
            waited = time.monotonic() - t0
            holder = _lock_holder(exc)
            if waited >= wait_s:
                message = (f"WarehouseLocked: {path} was locked by {holder} for {waited:.0f} s "
                           f"({ENV_LOCK_WAIT_S}={wait_s:g}); {task} did not run for {day}: rerun the day")
                _leave_pending(path, run_id, StageResult(task, day, "failed", message=message,
                                                         seconds=waited), started_at)
                log.error("%s", message)
                raise WarehouseLocked(message) from None
            if waited >= next_report:
                log.warning("%s %s: warehouse %s is locked by %s; waiting (%.0f of %g s)", task, day, path, holder,
                            waited, wait_s)
                next_report = waited + LOCK_REPORT_EVERY_S
            time.sleep(min(delay, max(0.0, wait_s - waited)))
            delay = min(delay * 2, 5.0)


def _leave_pending(path: Path, run_id: str, result: StageResult, started_at: datetime) -> None:
    folder = _pending_dir(path)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        doc = {"run_id": run_id, **result.as_dict(), "started_at": started_at.isoformat(),
               "finished_at": _utcnow().isoformat()}
        tmp = folder / f".{uuid.uuid4().hex}.tmp"
        tmp.write_text(json.dumps(doc), encoding="utf-8")
        os.replace(tmp, folder / f"{uuid.uuid4().hex}.json")
    except OSError as exc:  # e.g. a read-only volume: the error is still raised and logged
        log.error("could not leave the failed run of %s for %s in %s: %s", result.task, result.day, folder, exc)


def _record_pending(con: duckdb.DuckDBPyConnection, path: Path) -> None:
    """Rows left by runs that found the warehouse locked: into pipeline_runs now, each once."""
    folder = _pending_dir(path)
    if not folder.is_dir():
        return
    for file in sorted(folder.glob("*.json")):
        try:
            doc = json.loads(file.read_text(encoding="utf-8"))
            result = StageResult(doc["task"], date.fromisoformat(doc["day"]), doc["status"], doc["rows_in"],
                                 doc["rows_out"], doc["message"], doc["seconds"])
            started_at = datetime.fromisoformat(doc["started_at"])
            warehouse.run_sql(con, "runlog/record_run", {
                "run_id": doc["run_id"], "day": result.day, "task": result.task, "status": result.status,
                "rows_in": result.rows_in, "rows_out": result.rows_out, "seconds": result.seconds,
                "message": result.message, "started_at": started_at,
                "finished_at": datetime.fromisoformat(doc["finished_at"]),
            })
        except (OSError, ValueError, KeyError) as exc:
            log.error("pending run record %s is unreadable (%s); left in place", file, exc)
            continue
        file.unlink(missing_ok=True)


@contextmanager
def stage_run(
    task: str, day: date, run_id: str, warehouse_file: Path | None = None
) -> Iterator[tuple[duckdb.DuckDBPyConnection, StageResult]]:
    """Open the warehouse for one stage and day; log success or failure to pipeline_runs either way (a run
    that found the warehouse locked too long is recorded by the next one that gets in)."""
    path = Path(warehouse_file) if warehouse_file else settings.warehouse_path()
    con = _connect_or_record(task, day, run_id, warehouse_file)
    _record_pending(con, path)
    result = StageResult(task=task, day=day)
    started_at = _utcnow()
    t0 = time.perf_counter()
    try:
        with faults.in_stage(task):  # TRENDTRACE_FAULT's commit counter (pipelines.faults): inert unless set
            yield con, result
    except BaseException as exc:
        result.status = "failed"
        text = f"{type(exc).__name__}: {exc}"
        cause = _disk_full_cause(exc) if isinstance(exc, Exception) else None
        if cause is not None:
            text = _disk_full_message(path, task, day, cause)
        safe = scrub(text)  # pipeline_runs is published to analysts: never a token or password in it
        result.message = safe[:4000]
        result.seconds = time.perf_counter() - t0
        try:
            record_run(con, run_id, result, started_at)
        except Exception as record_exc:  # the original error matters more than the log row
            log.error("could not record the failed run of %s for %s: %s", task, day, scrub_exception(record_exc))
            _leave_pending(path, run_id, result, started_at)  # recorded by the next stage that gets in
        try:
            con.close()
        except Exception as close_exc:  # e.g. an invalidated database: must not replace the stage's error
            log.error("could not close the warehouse after %s for %s: %s", task, day, scrub_exception(close_exc))
        if cause is not None:
            log.error("%s", safe)
            raise WarehouseDiskFull(safe) from None
        if safe != text and isinstance(exc, Exception):
            # The task log and the failure notification print the exception: raise a scrubbed copy, without
            # the original as its cause (whose text would be printed with the traceback).
            raise StageFailed(safe) from None
        raise
    result.seconds = time.perf_counter() - t0
    result.message = scrub(result.message)
    record_run(con, run_id, result, started_at)
    con.close()
    log.info("%s %s: %s (%d in, %d out) %s", task, day, result.status, result.rows_in, result.rows_out, result.message)
