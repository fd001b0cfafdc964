"""The fresh DAG's shape: scheduled by the landing asset's watcher, it only starts runs of the daily DAG."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

DAGS_DIR = Path(__file__).resolve().parents[2] / "dags"


def test_the_landing_asset_schedules_the_fresh_dag_through_the_marker_trigger(tmp_path, monkeypatch):
    from airflow.dag_processing.dagbag import DagBag
    from airflow.sdk.definitions.timetables.assets import AssetTriggeredTimetable

    from pipelines.landing_watch import LandingMarkerTrigger

    monkeypatch.setenv("TRENDTRACE_LANDING", str(tmp_path))
    monkeypatch.setenv("TRENDTRACE_FRESH_POLL_S", "2.5")
    bag = DagBag(dag_folder=str(DAGS_DIR))
    assert not bag.import_errors, bag.import_errors
    fresh, daily = bag.dags["moment_to_movement_fresh"], bag.dags["moment_to_movement"]
    assert isinstance(fresh.timetable, AssetTriggeredTimetable)
    (asset,) = fresh.timetable.asset_condition.objects
    assert asset.name == "trendtrace_landing" and asset.uri == tmp_path.resolve().as_uri()
    (watcher,) = asset.watchers
    assert isinstance(watcher.trigger, LandingMarkerTrigger)
    assert watcher.trigger.serialize()[1] == {"landing": str(tmp_path.resolve()), "marker": "_SUCCESS",
                                              "poll_interval": 2.5}
    # two tasks: read the triggering events, start one daily run per day (never its own copy of the stages)
    assert {t: fresh.get_task(t).upstream_task_ids for t in fresh.task_ids} == {
        "landed_days": set(), "start_day_run": {"landed_days"}}
    start = fresh.get_task("start_day_run")
    assert start.partial_kwargs["trigger_dag_id"] == "moment_to_movement"
    assert start.partial_kwargs["skip_when_already_exists"] is True
    assert start.partial_kwargs["logical_date"] is None  # never collides with the scheduled run of the day
    assert start.partial_kwargs["wait_for_completion"] is False
    # the runs it starts name their day in the daily DAG's param; one active run of it at a time
    assert "day" in daily.params and daily.params["day"] is None
    assert daily.max_active_runs == 1


def test_parsing_the_fresh_dag_imports_nothing_heavy():
    code = (
        "import sys\n"
        "from airflow.dag_processing.dagbag import DagBag\n"
        f"bag = DagBag(dag_folder={str(DAGS_DIR / 'moment_to_movement_fresh.py')!r})\n"
        "assert not bag.import_errors, bag.import_errors\n"
        "heavy = ('pandas', 'great_expectations', 'polars', 'numpy', 'duckdb', 'av')\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in heavy or m.startswith('pipelines.stages.')))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip().splitlines()[-1] == "[]", out.stdout
