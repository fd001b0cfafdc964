"""pipeline_runs: every stage execution leaves one row saying what it did, including failures."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import date, datetime, timezone
from pathlib import Path

import duckdb

from pipelines import warehouse
from pipelines.redact import scrub, scrub_exception

log = logging.getLogger(__name__)


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
    return datetime.now(timezone.utc).replace(tzinfo=None)


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


@contextmanager
def stage_run(task: str, day: date, run_id: str, warehouse_file: Path | None = None) -> Iterator[tuple[duckdb.DuckDBPyConnection, StageResult]]:
    """Open the warehouse for one stage and day; log success or failure to pipeline_runs either way."""
    con = warehouse.connect(warehouse_file)
    result = StageResult(task=task, day=day)
    started_at = _utcnow()
    t0 = time.perf_counter()
    try:
        yield con, result
    except BaseException as exc:
        result.status = "failed"
        text = f"{type(exc).__name__}: {exc}"
        safe = scrub(text)  # pipeline_runs is published to analysts: never a token or password in it
        result.message = safe[:4000]
        result.seconds = time.perf_counter() - t0
        try:
            record_run(con, run_id, result, started_at)
        except Exception as record_exc:  # the original error matters more than the log row
            log.error("could not record the failed run of %s for %s: %s", task, day, scrub_exception(record_exc))
        con.close()
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
