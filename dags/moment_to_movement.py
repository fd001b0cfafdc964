"""moment_to_movement: the daily trendtrace pipeline, one dt= landing partition per run.

ingest → validate → fingerprint → match_sounds → link_lineage → build_cascades → adoption → alerts → publish

Wiring only: every task calls `pipelines.stages.run_stage`, which replaces that day's partition of its
tables in one DuckDB transaction, so a retry or a rerun never duplicates. The run for logical date D
processes `<landing>/dt=D/`. Exports are historical: the start date is the landing zone's earliest
partition (or TRENDTRACE_START_DATE), the end date its latest partition (or TRENDTRACE_END_DATE), and
catchup runs every day in between; a new partition extends the schedule at the next parse.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone

from airflow.sdk import chain, dag, task
from airflow.timetables.interval import CronDataIntervalTimetable

from pipelines.alerts.notifier import on_failure
from pipelines.settings import dag_end_date, dag_start_date
from pipelines.stages import STAGES

DEFAULT_ARGS = {
    "owner": "trendtrace",
    "retries": 2,
    "retry_delay": timedelta(seconds=30),
    "retry_exponential_backoff": True,
    # A broken daily run is an alert too: sent through the configured channels after the last retry.
    "on_failure_callback": on_failure,
}


def day_of(logical_date: datetime) -> date:
    """The partition a run processes: its logical date (manual `dags test` runs have a zero-length interval)."""
    return logical_date.astimezone(timezone.utc).date()


def _end_date() -> datetime | None:
    last = dag_end_date()
    return datetime.combine(last, time.min, tzinfo=timezone.utc) if last else None


def stage_task(name: str):
    """A TaskFlow task that runs one pipelines stage for the run's day."""

    def run(logical_date: datetime | None = None, run_id: str | None = None) -> dict:
        from pipelines.stages import run_stage

        return run_stage(name, day_of(logical_date), run_id or "airflow")

    run.__name__ = name
    run.__doc__ = STAGES[name]
    return task(task_id=name, doc_md=STAGES[name])(run)


@dag(
    dag_id="moment_to_movement",
    # A run covers one whole UTC day [D, D+1) and starts once the day is over (plain "@daily" would
    # give a zero-length interval in Airflow 3).
    schedule=CronDataIntervalTimetable("@daily", timezone="UTC"),
    start_date=datetime.combine(dag_start_date(), time.min, tzinfo=timezone.utc),
    end_date=_end_date(),
    catchup=True,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    tags=["trendtrace", "daily"],
    doc_md=__doc__,
)
def moment_to_movement():
    chain(*[stage_task(name)() for name in STAGES])


moment_to_movement()
