"""Run the moment_to_movement DAG in-process (`dag.test`), one logical date per day, and check it really ran.

One process loads the DAG once and loops over the days (a `dags test` process per day costs ~20 s of
start-up). Airflow exits "success" without running anything for a date before the DAG's start_date, so
the start date is moved to the earliest requested day and each day's stage rows in pipeline_runs are
checked instead of trusting the run state alone.
"""

from __future__ import annotations

import fcntl
import logging
import os
import subprocess
import sys
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from pathlib import Path

from pipelines import settings

DAG_ID = "moment_to_movement"
DAGS_FOLDER = settings.PROJECT_ROOT / "dags"


@dataclass
class DayOutcome:
    day: date
    run_id: str
    state: str
    stages: dict[str, str]  # task -> status recorded in pipeline_runs by this run
    problem: str | None  # why the day is not a success, None when it is
    task_states: dict[str, str] = field(default_factory=dict)  # Airflow's view: "task" or "task[map index]" -> state


def configure_environment(landing: Path | None = None, warehouse: Path | None = None, quiet: bool = True) -> None:
    """Point trendtrace and Airflow at their folders; must run before `airflow` is imported."""
    if landing is not None:
        os.environ[settings.ENV_LANDING] = str(Path(landing).resolve())
    if warehouse is not None:
        os.environ[settings.ENV_WAREHOUSE] = str(Path(warehouse).resolve())
    home = Path(os.environ.setdefault("AIRFLOW_HOME", str(settings.PROJECT_ROOT / ".airflow")))
    os.environ.setdefault("AIRFLOW_CONFIG", str(settings.PROJECT_ROOT / "airflow.cfg"))
    os.environ["AIRFLOW__CORE__DAGS_FOLDER"] = str(DAGS_FOLDER)
    os.environ.setdefault("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN", settings.airflow_sqlite_url(home))
    os.environ.setdefault("AIRFLOW__LOGGING__BASE_LOG_FOLDER", str(home / "logs"))
    os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
    if quiet:
        os.environ.setdefault("AIRFLOW__LOGGING__LOGGING_LEVEL", "WARNING")
        # Airflow's own noise on every in-process run (dag.test): a lazy-load warning from its ORM when a DAG
        # has several serialized versions, and its execution API's test client deprecation; neither is ours.
        warnings.filterwarnings("ignore", message="Multiple rows returned with uselist=False")
        warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient` is deprecated")


def ensure_metadata_db() -> None:
    """`airflow db migrate` once per AIRFLOW_HOME (SQLite, no server)."""
    home = Path(os.environ["AIRFLOW_HOME"])
    marker = home / ".migrated"
    if marker.exists():
        return
    home.mkdir(parents=True, exist_ok=True)
    proc = subprocess.run(
        [sys.executable, "-m", "airflow", "db", "migrate"], capture_output=True, text=True, env=os.environ.copy()
    )
    if proc.returncode != 0:
        raise RuntimeError(f"airflow db migrate failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    marker.touch()


def load_dag():
    """The DAG as Airflow parses it from dags/ (import errors are raised, not hidden)."""
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(DAGS_FOLDER))
    if bag.import_errors:
        raise RuntimeError(f"DAG import errors: {bag.import_errors}")
    return bag.dags[DAG_ID]


def _stage_statuses(run_id: str) -> dict[str, str]:
    from pipelines import warehouse

    con = warehouse.connect(read_only=True)
    try:
        rows = con.execute(
            warehouse.sql_text("status/run_stage_statuses"), {"run_id": run_id}
        ).fetchall()
    finally:
        con.close()
    return dict(rows)


def task_states(run_id: str) -> dict[str, str]:
    """Every task instance of one run as Airflow recorded it; mapped instances as `task[i]`.

    Shard tasks write no pipeline_runs row (they never touch DuckDB), so a failed shard shows up here only.
    """
    from airflow.models.dagrun import DagRun

    states: dict[str, str] = {}
    for ti in DagRun.fetch_task_instances(dag_id=DAG_ID, run_id=run_id):
        key = ti.task_id if ti.map_index < 0 else f"{ti.task_id}[{ti.map_index}]"
        states[key] = str(getattr(ti.state, "value", ti.state))
    return states


def run_days(days: list[date]) -> list[DayOutcome]:
    """Run the DAG for each day in order; stop at the first failed day (later days build on it)."""
    if not days:
        return []
    for invalid in settings.invalid_partitions():
        logging.getLogger(__name__).warning("invalid partition %s (no run reads it)", invalid.describe())
    earliest, latest = min(days), max(days)
    with settings.environ_restored(settings.ENV_START_DATE, settings.ENV_END_DATE):
        configured = os.environ.get(settings.ENV_START_DATE)
        if not configured or settings.parse_day(configured, settings.ENV_START_DATE) > earliest:
            os.environ[settings.ENV_START_DATE] = earliest.isoformat()
        configured = os.environ.get(settings.ENV_END_DATE)
        if not configured or settings.parse_day(configured, settings.ENV_END_DATE) < latest:
            os.environ[settings.ENV_END_DATE] = latest.isoformat()
        with _exclusive_airflow_home():
            return _run_days(days)


@contextmanager
def _exclusive_airflow_home() -> Iterator[None]:
    """One `dag.test` runner per Airflow home at a time.

    `dag.test` replaces any run with the same logical date, so two backfills sharing a metadata database
    would delete each other's runs mid-flight; the second one waits for the first instead.
    """
    home = Path(os.environ["AIRFLOW_HOME"])
    home.mkdir(parents=True, exist_ok=True)
    with (home / "trendtrace-runner.lock").open("w") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            logging.getLogger(__name__).warning("another trendtrace run uses %s; waiting for it to finish", home)
            fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _run_days(days: list[date]) -> list[DayOutcome]:
    from pipelines import warehouse
    from pipelines.stages import TASKS

    ensure_metadata_db()
    warehouse.connect().close()  # create the file and schema before any reader looks
    dag = load_dag()
    outcomes: list[DayOutcome] = []
    for day in days:
        dag_run = dag.test(logical_date=datetime.combine(day, time.min, tzinfo=UTC))
        state = str(getattr(dag_run.state, "value", dag_run.state))
        stages = _stage_statuses(dag_run.run_id)
        tis = task_states(dag_run.run_id)
        missing = [t for t in TASKS if t not in stages]
        failed = [t for t, s in stages.items() if s == "failed"]
        failed_tasks = [t for t, s in tis.items() if s == "failed" and t not in failed]
        problem = None
        if state != "success" or failed or failed_tasks:
            problem = f"run {state}; failed stages: {', '.join(failed) or 'none recorded'}"
            if failed_tasks:
                problem += f"; failed Airflow tasks: {', '.join(failed_tasks)}"
        elif missing:
            problem = f"stages did not run: {', '.join(missing)} (is {day} outside the DAG's start/end dates?)"
        outcomes.append(DayOutcome(day, dag_run.run_id, state, stages, problem, tis))
        if problem:
            logging.getLogger(__name__).error("day %s: %s", day, problem)
            break
    return outcomes
