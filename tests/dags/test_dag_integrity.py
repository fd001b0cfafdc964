"""DAG integrity (in the manner of astronomer's tests): every DAG file imports cleanly and follows the rules."""

from __future__ import annotations

from pathlib import Path

import pytest

DAGS_DIR = Path(__file__).resolve().parents[2] / "dags"
DAG_FILES = sorted(p for p in DAGS_DIR.glob("*.py") if not p.name.startswith("_"))


@pytest.fixture(scope="module")
def dagbag():
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(DAGS_DIR))


@pytest.mark.parametrize("dag_file", DAG_FILES, ids=lambda p: p.name)
def test_dag_file_imports_without_errors(dagbag, dag_file):
    errors = {k: v for k, v in dagbag.import_errors.items() if Path(k).name == dag_file.name}
    assert not errors, errors
    assert any(Path(d.fileloc).name == dag_file.name for d in dagbag.dags.values()), f"{dag_file.name} defines no DAG"


def test_every_dag_has_tags_and_retries(dagbag):
    assert dagbag.dags
    for dag in dagbag.dags.values():
        assert dag.tags, f"{dag.dag_id} has no tags"
        for t in dag.tasks:
            assert t.retries >= 1, f"{dag.dag_id}.{t.task_id} has no retries"


def test_moment_to_movement_shape(dagbag):
    from airflow.timetables.interval import CronDataIntervalTimetable

    from pipelines.stages import STAGES, TASKS

    dag = dagbag.dags["moment_to_movement"]
    assert dag.catchup is True
    assert dag.max_active_runs == 1
    # one run = one whole day: a data interval of 24 h, not a point in time
    assert isinstance(dag.timetable, CronDataIntervalTimetable)
    assert dag.timetable.summary == "0 0 * * *"
    # every stage is a task; the fingerprint stage is plan -> mapped shards -> load (task "fingerprint"), and
    # match_sounds plan -> mapped shards (its first pass) -> the writer (task "match_sounds")
    assert set(dag.task_ids) == set(TASKS) | {"fingerprint_plan", "fingerprint_shard", "match_plan", "match_shard"}
    assert {t: dag.get_task(t).upstream_task_ids for t in dag.task_ids} == EXPECTED_UPSTREAM
    for name in TASKS:  # the stages' task docs in the Airflow UI
        assert dag.get_task(name).doc_md == STAGES[name], name


# The chain the DAG file writes out: a straight line in stage order; fingerprint and match_sounds fan out over
# their plans' shards and back in (the load and the writer also read their plan's XCom).
EXPECTED_UPSTREAM = {
    "ingest": set(),
    "validate": {"ingest"},
    "fingerprint_plan": {"validate"},
    "fingerprint_shard": {"fingerprint_plan"},
    "fingerprint": {"fingerprint_plan", "fingerprint_shard"},
    "match_plan": {"fingerprint"},
    "match_shard": {"match_plan"},
    "match_sounds": {"match_plan", "match_shard"},
    "link_lineage": {"match_sounds"},
    "build_cascades": {"link_lineage"},
    "adoption": {"build_cascades"},
    "check_invariants": {"adoption"},
    "alerts": {"check_invariants"},
    "publish": {"alerts"},
}


def test_parsing_the_dag_imports_no_stage_and_nothing_heavy():
    """Tasks import their stage inside the body: a DAG parse must not load pandas, GE, polars or the stages."""
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from airflow.dag_processing.dagbag import DagBag\n"
        f"bag = DagBag(dag_folder={str(DAGS_DIR / 'moment_to_movement.py')!r})\n"
        "assert not bag.import_errors, bag.import_errors\n"
        "heavy = ('pandas', 'great_expectations', 'polars', 'numpy', 'duckdb', 'av')\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in heavy or m.startswith('pipelines.stages.')))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip().splitlines()[-1] == "[]", out.stdout


@pytest.mark.parametrize(("shard_task", "plan_task", "load_task"), [
    ("fingerprint_shard", "fingerprint_plan", "fingerprint"),
    ("match_shard", "match_plan", "match_sounds"),
])
def test_fingerprint_and_matching_are_mapped_tasks_over_shards(dagbag, shard_task, plan_task, load_task):
    from airflow.sdk.definitions.mappedoperator import MappedOperator

    from pipelines.settings import shard_settings

    dag = dagbag.dags["moment_to_movement"]
    shard = dag.get_task(shard_task)
    assert isinstance(shard, MappedOperator)
    # expanded over the plan's XCom (one instance per shard), named after the shard in the UI
    assert shard._get_specified_expand_input().value["shard"].operator.task_id == plan_task
    assert shard.map_index_template == "{{ shard_label }}"
    assert shard.max_active_tis_per_dagrun == shard_settings().parallel_shards
    assert shard.retries >= 1
    # the load runs when no shard was mapped (a day without new files) but never after a failed shard
    assert dag.get_task(load_task).trigger_rule == "none_failed"
    assert not isinstance(dag.get_task(load_task), MappedOperator)


def test_dag_start_date_follows_the_landing_zone(tmp_path, monkeypatch):
    """Historical exports must not be skipped: the start date is the earliest partition present."""
    from airflow.dag_processing.dagbag import DagBag

    (tmp_path / "dt=2023-07-14").mkdir()
    (tmp_path / "dt=2024-01-02").mkdir()
    monkeypatch.setenv("TRENDTRACE_LANDING", str(tmp_path))
    monkeypatch.delenv("TRENDTRACE_START_DATE", raising=False)
    monkeypatch.delenv("TRENDTRACE_END_DATE", raising=False)
    bag = DagBag(dag_folder=str(DAGS_DIR / "moment_to_movement.py"))
    assert bag.dags["moment_to_movement"].start_date.date().isoformat() == "2023-07-14"
    # and it ends at the latest partition: no queue of empty runs up to today
    assert bag.dags["moment_to_movement"].end_date.date().isoformat() == "2024-01-02"
    monkeypatch.setenv("TRENDTRACE_START_DATE", "2020-02-02")
    bag = DagBag(dag_folder=str(DAGS_DIR / "moment_to_movement.py"))
    assert bag.dags["moment_to_movement"].start_date.date().isoformat() == "2020-02-02"


def test_celery_queues_keep_duckdb_tasks_next_to_the_file(monkeypatch):
    """Only the fingerprint shards may run anywhere; the match shards read the warehouse file (read-only): on their
    own queue, the shard queue by default; every task that writes DuckDB goes to the warehouse's queue."""
    from airflow.dag_processing.dagbag import DagBag

    monkeypatch.setenv("TRENDTRACE_WAREHOUSE_QUEUE", "warehouse")
    monkeypatch.setenv("TRENDTRACE_SHARD_QUEUE", "decode")
    dag = DagBag(dag_folder=str(DAGS_DIR / "moment_to_movement.py")).dags["moment_to_movement"]
    queues = {t.task_id: t.queue for t in dag.tasks}
    assert queues.pop("fingerprint_shard") == "decode"
    assert queues.pop("match_shard") == "decode"
    assert set(queues.values()) == {"warehouse"}
    monkeypatch.setenv("TRENDTRACE_MATCH_SHARD_QUEUE", "readers")
    dag = DagBag(dag_folder=str(DAGS_DIR / "moment_to_movement.py")).dags["moment_to_movement"]
    assert dag.get_task("match_shard").queue == "readers"
    monkeypatch.delenv("TRENDTRACE_MATCH_SHARD_QUEUE")
    monkeypatch.delenv("TRENDTRACE_WAREHOUSE_QUEUE")
    monkeypatch.delenv("TRENDTRACE_SHARD_QUEUE")
    dag = DagBag(dag_folder=str(DAGS_DIR / "moment_to_movement.py")).dags["moment_to_movement"]
    assert len({t.queue for t in dag.tasks}) == 1  # unset: Airflow's default queue for all
