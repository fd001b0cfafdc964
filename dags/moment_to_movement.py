"""moment_to_movement: the daily trendtrace pipeline, one dt= landing partition per run.

ingest → validate → fingerprint_plan → fingerprint_shard[×N] → fingerprint → match_plan → match_shard[×M]
→ match_sounds → link_lineage → build_cascades → adoption → check_invariants → alerts → publish

The fingerprint stage is a dynamically mapped task: `fingerprint_plan` splits the day's new media files into
shards, `fingerprint_shard` decodes one shard per mapped task instance (no DuckDB access, so instances can
run on any Celery/Kubernetes worker that mounts the work dir and the landing zone) and `fingerprint` loads
every shard's Parquet into DuckDB in one transaction (docs/scaling.md). match_sounds' first pass (each file
against the index as of the day before) is mapped the same way: `match_shard` instances read the warehouse file
read-only and write Parquet; `match_sounds` does the rest of the day as the one writer.

Wiring only: each task imports its stage module (`pipelines.stages.<stage>`) inside its body, so parsing
the DAG stays cheap (pandas, Great Expectations and the audio stack load only when a task runs), and calls
its `run`, which replaces that day's partition of its tables in one DuckDB transaction, so a retry or a
rerun never duplicates. The run for logical date D processes `<landing>/dt=D/`. Exports are historical:
the start date is the landing zone's earliest partition (or TRENDTRACE_START_DATE), the end date its latest
partition (or TRENDTRACE_END_DATE), and catchup runs every day in between; a new partition extends the
schedule at the next parse.

Fresh runs (docs/alerts.md, "Fresh alerts"): a day whose completion marker lands is run at once, as a run of
this DAG with `{"day": "YYYY-MM-DD"}` in its conf and no logical date, started by moment_to_movement_fresh.
Every run of this DAG, scheduled or fresh, is one of at most one active run (max_active_runs=1), so two runs
never write the DuckDB file at once. The same form (param `day`) reruns any day from the UI.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta

from airflow.sdk import Param, chain, dag, task
from airflow.timetables.interval import CronDataIntervalTimetable

from pipelines.alerts.notifier import on_failure
from pipelines.settings import dag_end_date, dag_start_date, retry_delay_s, shard_settings
from pipelines.stages import STAGES

DEFAULT_ARGS = {
    "owner": "trendtrace",
    "retries": 2,
    "retry_delay": timedelta(seconds=retry_delay_s()),  # TRENDTRACE_RETRY_DELAY_S, default 30
    "retry_exponential_backoff": True,
    # A broken daily run is an alert too: sent through the configured channels after the last retry.
    "on_failure_callback": on_failure,
}


def day_of(logical_date: datetime | None, params: dict | None = None) -> date:
    """The partition a run processes: the `day` param when given (fresh runs, which have no logical date),
    else its logical date (manual `dags test` runs have a zero-length interval)."""
    if params and params.get("day"):
        return date.fromisoformat(str(params["day"]))
    if logical_date is None:
        raise ValueError("a run without a logical date must name its day: conf {\"day\": \"YYYY-MM-DD\"}")
    return logical_date.astimezone(UTC).date()


def _end_date() -> datetime | None:
    last = dag_end_date()
    return datetime.combine(last, time.min, tzinfo=UTC) if last else None


def _queue(name: str | None) -> dict:
    """`queue=` only when configured: on Celery, tasks that open DuckDB must run next to the file."""
    return {"queue": name} if name else {}


@dag(
    dag_id="moment_to_movement",
    # A run covers one whole UTC day [D, D+1) and starts once the day is over (plain "@daily" would
    # give a zero-length interval in Airflow 3).
    schedule=CronDataIntervalTimetable("@daily", timezone="UTC"),
    start_date=datetime.combine(dag_start_date(), time.min, tzinfo=UTC),
    end_date=_end_date(),
    catchup=True,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    # empty for scheduled runs; fresh runs (and a rerun from the UI's form) name the partition here
    params={"day": Param(None, type=["null", "string"], format="date",
                         description="Partition to process (YYYY-MM-DD); empty: the run's logical date")},
    tags=["trendtrace", "daily"],
    doc_md=__doc__,
)
def moment_to_movement():
    cfg = shard_settings()
    on_warehouse = _queue(cfg.warehouse_queue)  # every task that opens DuckDB

    @task(task_id="ingest", doc_md=STAGES["ingest"], **on_warehouse)
    def ingest(logical_date: datetime | None = None, run_id: str | None = None,
                params: dict | None = None) -> dict:
        from pipelines.alerts.notifier import send_degraded_notice
        from pipelines.stages import ingest as stage

        day = day_of(logical_date, params)
        result = stage.run(day, run_id or "airflow")
        send_degraded_notice(day.isoformat(), run_id or "airflow", result.message or "")  # green but partial
        return result.as_dict()

    @task(task_id="validate", doc_md=STAGES["validate"], **on_warehouse)
    def validate(logical_date: datetime | None = None, run_id: str | None = None,
                params: dict | None = None) -> dict:
        from pipelines.stages import validate as stage

        return stage.run(day_of(logical_date, params), run_id or "airflow").as_dict()

    @task(task_id="fingerprint_plan", doc_md="Split the day's new media files into shards; write their manifests.",
          **on_warehouse)
    def fingerprint_plan(logical_date: datetime | None = None, params: dict | None = None) -> list[dict]:
        from pipelines.stages.fingerprint_shards import plan_day

        return plan_day(day_of(logical_date, params))

    @task(
        task_id="fingerprint_shard",
        doc_md="Decode and fingerprint one shard of media files into Parquet (no DuckDB; any worker).",
        map_index_template="{{ shard_label }}",
        max_active_tis_per_dagrun=cfg.parallel_shards,
        **_queue(cfg.shard_queue),
    )
    def fingerprint_shard(shard: dict) -> dict:
        from airflow.sdk import get_current_context

        from pipelines.stages.fingerprint_shards import label, run_shard

        get_current_context()["shard_label"] = label(shard)  # type: ignore[typeddict-unknown-key]
        return run_shard(shard)

    # none_failed: a day without new files maps zero shards (skipped), and the contract must still be judged
    @task(task_id="fingerprint", doc_md=STAGES["fingerprint"], trigger_rule="none_failed", **on_warehouse)
    def fingerprint(shards: list[dict], results: Sequence[dict] | None = None, logical_date: datetime | None = None,
                    run_id: str | None = None, params: dict | None = None) -> dict:
        from pipelines.stages.fingerprint import run_load

        # by index: iterating Airflow's lazy XCom sequence probes one offset past the end and logs an error
        done = [results[i] for i in range(len(results))] if results is not None else []
        return run_load(day_of(logical_date, params), run_id or "airflow", shards, done).as_dict()

    @task(task_id="match_plan", doc_md="Forget the day's earlier matching; cut its audio into shards of whole chunks.",
          **on_warehouse)
    def match_plan(logical_date: datetime | None = None, params: dict | None = None) -> list[dict]:
        from pipelines.stages.match_shards import plan_day

        return plan_day(day_of(logical_date, params))

    @task(
        task_id="match_shard",
        doc_md="Match one shard's files against the index as of the day before (reads DuckDB only; Parquet out).",
        map_index_template="{{ shard_label }}",
        max_active_tis_per_dagrun=cfg.parallel_shards,
        **_queue(cfg.match_shard_queue),
    )
    def match_shard(shard: dict) -> dict:
        from airflow.sdk import get_current_context

        from pipelines.stages.match_shards import label, run_shard

        get_current_context()["shard_label"] = label(shard)  # type: ignore[typeddict-unknown-key]
        return run_shard(shard)

    @task(task_id="match_sounds", doc_md=STAGES["match_sounds"], trigger_rule="none_failed", **on_warehouse)
    def match_sounds(shards: list[dict], results: Sequence[dict] | None = None,
                     logical_date: datetime | None = None, run_id: str | None = None,
                     params: dict | None = None) -> dict:
        from pipelines.stages import match_sounds as stage

        return stage.run_load(day_of(logical_date, params), run_id or "airflow", shards).as_dict()

    @task(task_id="link_lineage", doc_md=STAGES["link_lineage"], **on_warehouse)
    def link_lineage(logical_date: datetime | None = None, run_id: str | None = None,
                params: dict | None = None) -> dict:
        from pipelines.stages import link_lineage as stage

        return stage.run(day_of(logical_date, params), run_id or "airflow").as_dict()

    @task(task_id="build_cascades", doc_md=STAGES["build_cascades"], **on_warehouse)
    def build_cascades(logical_date: datetime | None = None, run_id: str | None = None,
                params: dict | None = None) -> dict:
        from pipelines.stages import build_cascades as stage

        return stage.run(day_of(logical_date, params), run_id or "airflow").as_dict()

    @task(task_id="adoption", doc_md=STAGES["adoption"], **on_warehouse)
    def adoption(logical_date: datetime | None = None, run_id: str | None = None,
                params: dict | None = None) -> dict:
        from pipelines.stages import adoption as stage

        return stage.run(day_of(logical_date, params), run_id or "airflow").as_dict()

    @task(task_id="check_invariants", doc_md=STAGES["check_invariants"], **on_warehouse)
    def check_invariants(logical_date: datetime | None = None, run_id: str | None = None,
                params: dict | None = None) -> dict:
        from pipelines.stages import check_invariants as stage

        return stage.run(day_of(logical_date, params), run_id or "airflow").as_dict()

    @task(task_id="alerts", doc_md=STAGES["alerts"], **on_warehouse)
    def alerts(logical_date: datetime | None = None, run_id: str | None = None,
                params: dict | None = None) -> dict:
        from pipelines.stages import alerts as stage

        return stage.run(day_of(logical_date, params), run_id or "airflow").as_dict()

    @task(task_id="publish", doc_md=STAGES["publish"], **on_warehouse)
    def publish(logical_date: datetime | None = None, run_id: str | None = None,
                params: dict | None = None) -> dict:
        from pipelines.stages import publish as stage

        return stage.run(day_of(logical_date, params), run_id or "airflow").as_dict()

    # The graph: one straight line; fingerprint and match_sounds' first pass fan out over their plans' shards and
    # back in.
    planned = fingerprint_plan()
    loaded = fingerprint(planned, fingerprint_shard.expand(shard=planned))
    match_planned = match_plan()
    matched = match_sounds(match_planned, match_shard.expand(shard=match_planned))
    chain(ingest(), validate(), planned)
    chain(loaded, match_planned)
    chain(matched, link_lineage(), build_cascades(), adoption(), check_invariants(), alerts(), publish())


moment_to_movement()
