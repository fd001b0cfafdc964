"""moment_to_movement_fresh: a day whose completion marker lands is run at once, not after midnight.

    <landing>/dt=D/_SUCCESS written  →  triggerer: LandingMarkerTrigger fires (AssetWatcher on `trendtrace_landing`)
      →  this DAG runs (asset-scheduled): landed_days → start_day_run[×days]
      →  moment_to_movement run `fresh__D__<marker stamp>` with conf {"day": D}: every stage, alerts, publish

Event-driven scheduling, Airflow's own: the trigger (pipelines/landing_watch.py) runs in the triggerer and turns
each new marker stamp into an asset event; the asset schedules this DAG; its run reads the events that triggered
it (`triggering_asset_events`, one or more: markers that landed together arrive in one run) and starts one run of
the daily DAG per day named. The stages are the daily DAG's own tasks: there is one definition of the graph, and
fresh runs share the daily DAG's max_active_runs=1 (a fresh run waits for a running daily run and vice versa:
never two writers of the DuckDB file). A marker touched again (more files for D) is a new stamp, so D runs again;
every stage rewrites its day, so the rerun converges. The same stamp names the same run id, so an event seen twice
starts nothing (`skip_when_already_exists`). The scheduled daily run still runs D once D is over.

Needs a triggerer (`make serve` / `airflow standalone` starts one; scripts/cluster/cluster.sh too). Pause this
DAG to switch fresh runs off.
"""

from __future__ import annotations

from datetime import timedelta

from airflow.providers.standard.operators.trigger_dagrun import TriggerDagRunOperator
from airflow.sdk import Asset, AssetWatcher, dag, task

from pipelines.landing_watch import LandingMarkerTrigger
from pipelines.settings import COMPLETION_MARKER, fresh_poll_seconds, landing_dir

DAILY_DAG_ID = "moment_to_movement"

LANDING = Asset(
    name="trendtrace_landing",
    uri=landing_dir().as_uri(),
    watchers=[AssetWatcher(
        name="landing_markers",
        trigger=LandingMarkerTrigger(landing=str(landing_dir()), marker=COMPLETION_MARKER,
                                     poll_interval=fresh_poll_seconds()),
    )],
)


@dag(
    dag_id="moment_to_movement_fresh",
    schedule=[LANDING],
    catchup=False,
    default_args={"owner": "trendtrace", "retries": 2, "retry_delay": timedelta(seconds=10)},
    tags=["trendtrace", "fresh"],
    doc_md=__doc__,
)
def moment_to_movement_fresh():
    @task(task_id="landed_days", inlets=[LANDING])
    def landed_days(triggering_asset_events=None) -> list[dict]:
        """One `moment_to_movement` run to start per day named by the markers that triggered this run."""
        from pipelines.landing_watch import day_runs

        events = triggering_asset_events[LANDING] if triggering_asset_events else []
        # a watcher's asset event carries the trigger's payload under extra["payload"]
        return day_runs((e.extra or {}).get("payload") for e in events)

    # no logical date: a fresh run is named by its conf day, so it never collides with the scheduled run of D
    TriggerDagRunOperator.partial(
        task_id="start_day_run",
        trigger_dag_id=DAILY_DAG_ID,
        logical_date=None,
        skip_when_already_exists=True,
        wait_for_completion=False,
        openlineage_inject_parent_info=False,
    ).expand_kwargs(landed_days())


moment_to_movement_fresh()
