"""One real Airflow (`airflow standalone`: api-server, scheduler, dag-processor, triggerer; SQLite, LocalExecutor),
shared by this module's two scenarios, in order:

1. `make serve`'s path: the scheduler runs the daily DAG by itself. Tasks run in separate supervised processes
   that talk to the api-server, which `dag.test` never exercises (shared JWT secret, no metadata-DB access from
   task code); catchup over the tiny two-day landing zone (tests/support/landing.py) runs every stage of both
   days and stops at the latest partition (TRENDTRACE_START_DATE/END_DATE bound it, as the landing would).
2. Fresh alerts: the triggerer watches the same landing zone; a day's `_SUCCESS` marker starts that day's run at
   once (a run without a logical date, so the DAG's end date does not stop it), its alerts reach a real webhook
   receiver on 127.0.0.1 exactly once, and more files + the marker written again rerun the day, which converges
   (nothing doubled, nothing resent). A partition without a marker never runs.

One standalone instead of one per scenario: its bring-up (55–180 s on the shared machine) is paid once. One test
function runs both scenarios, in that order (the fresh one needs the scheduled days done: one writer, a known
baseline), so the order does not rest on how the suite is spread over xdist workers. scripts/bench_fresh.py
drives the fresh path (tests/support/fresh.py) and prints its latencies; no time is asserted here.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb
import pytest
import yaml

from pipelines.stages import STAGES, TASKS
from tests.support import landing as landing_builder
from tests.support.fresh import DAILY, FRESH, Standalone, copy_partition_files, write_marker
from tests.support.receivers import WebhookReceiver

pytestmark = pytest.mark.slow

# after the scheduled days, outside TRENDTRACE_START_DATE..END_DATE: only a fresh run can process these
FRESH_DAY = "2024-03-05"
UNMARKED_DAY = "2024-03-06"
# failure bounds only (the machine is shared and loaded): each fails with the Airflow log's tail
START_TIMEOUT = 600
CATCHUP_TIMEOUT = 900
RUN_TIMEOUT = 900


@dataclass
class Shared:
    af: Standalone
    receiver: WebhookReceiver
    landing: Path
    warehouse: Path


@pytest.fixture
def shared(tmp_path: Path) -> Iterator[Shared]:
    """The standalone over a landing zone that holds the two scheduled days (no markers), a receiver for alerts."""
    root = tmp_path
    landing = root / "landing"
    landing_builder.build(landing)
    warehouse = root / "warehouse" / "tt.duckdb"
    config = root / "alerts.yaml"
    # level 1: every sound a day brings crosses it, so each run has alerts to deliver
    config.write_text(yaml.safe_dump({
        "rules": [{"name": "first_creator", "kind": "cumulative_creators", "levels": [1]}],
        "delivery": {"timeout_s": 10, "attempts_per_run": 3, "backoff_s": 1, "backoff_factor": 2,
                     "max_attempts": 30, "top_cascades": 2, "report": ""},
    }))
    with WebhookReceiver() as receiver, Standalone(root / "airflow", {
        "TRENDTRACE_LANDING": str(landing),
        "TRENDTRACE_WAREHOUSE": str(warehouse),
        "TRENDTRACE_ALERTS_CONFIG": str(config),
        "TRENDTRACE_WEBHOOK_URL": receiver.url,
        "TRENDTRACE_FRESH_POLL_S": "1",
        "TRENDTRACE_WORKERS": "1",
        "TRENDTRACE_START_DATE": str(landing_builder.DAY1), "TRENDTRACE_END_DATE": str(landing_builder.DAY2),
    }) as af:
        yield Shared(af, receiver, landing, warehouse)


def _scheduled_runs(af: Standalone) -> list[dict]:
    return [r for r in af.runs(DAILY) if not r["dag_run_id"].startswith("fresh__")]


def _fresh_runs(af: Standalone) -> list[dict]:
    return [r for r in af.runs(DAILY) if r["dag_run_id"].startswith("fresh__")]


def _catchup_done(af: Standalone) -> list[dict] | None:
    """The scheduled runs once the last partition's run finished (catchup then has nothing left to start)."""
    runs = _scheduled_runs(af)
    last = [r for r in runs if r["logical_date"] and r["logical_date"].startswith(str(landing_builder.DAY2))]
    if last and last[0]["state"] in ("success", "failed") and all(r["state"] in ("success", "failed") for r in runs):
        return runs
    return None


def _wait_catchup(s: Shared) -> list[dict]:
    return s.af.wait("the scheduled catch-up of both days", lambda: _catchup_done(s.af), CATCHUP_TIMEOUT, every=3)


@pytest.mark.timeout(2400)
def test_standalone_runs_the_scheduled_catchup_then_fresh_markers_alert_once(shared, small_world):
    """Scenario 1, then scenario 2 on the same standalone (module docstring)."""
    _scheduler_runs_every_partition_day(shared)
    _a_landed_marker_runs_the_day_and_alerts_once_and_a_new_marker_reruns_it(shared, small_world)


def _scheduler_runs_every_partition_day(shared: Shared) -> None:
    af = shared.af
    runs = _wait_catchup(shared)
    assert [r["state"] for r in runs] == ["success", "success"], af.tail()
    assert [r["logical_date"][:10] for r in runs] == [str(landing_builder.DAY1), str(landing_builder.DAY2)]
    # the scheduler stays idle: no run beyond the latest partition, and files without a marker start no fresh run
    time.sleep(5)
    assert len(_scheduled_runs(af)) == 2
    assert _fresh_runs(af) == []
    con = duckdb.connect(str(shared.warehouse), read_only=True)
    try:
        tasks_per_day = con.execute(
            "SELECT day, count(DISTINCT task) FROM pipeline_runs WHERE status <> 'failed' GROUP BY 1 ORDER BY 1"
        ).fetchall()
        failed = con.execute("SELECT count(*) FROM pipeline_runs WHERE status = 'failed'").fetchone()[0]
        posts = con.execute("SELECT count(*) FROM posts").fetchone()[0]
    finally:
        con.close()
    # every stage of both days ran, and catchup stopped at the latest partition: no empty runs up to today
    assert tasks_per_day == [(landing_builder.DAY1, len(STAGES)), (landing_builder.DAY2, len(STAGES))]
    assert failed == 0
    assert posts > 0
    assert (shared.warehouse.parent / "published" / shared.warehouse.name).is_file()


def _finished(af: Standalone, known: set[str]) -> dict | None:
    """The first fresh day run not in `known`, once it finished."""
    new = [r for r in _fresh_runs(af) if r["dag_run_id"] not in known]
    return new[0] if new and new[0]["state"] in ("success", "failed") else None


def _warehouse_facts(path: Path, run_id: str | None) -> dict:
    fresh_day = date.fromisoformat(FRESH_DAY)
    con = duckdb.connect(str(path), read_only=True)
    try:
        return {
            "stages": dict(con.execute("SELECT task, status FROM pipeline_runs WHERE run_id = ?", [run_id]).fetchall()),
            "ingested": (con.execute("SELECT rows_in FROM pipeline_runs WHERE run_id = ? AND task = 'ingest'",
                                     [run_id]).fetchone() or [None])[0],
            "days": [d for (d,) in con.execute("SELECT DISTINCT day FROM pipeline_runs ORDER BY 1").fetchall()],
            "posts": con.execute("SELECT count(*), count(DISTINCT post_id) FROM posts").fetchone(),
            "fresh_posts": con.execute("SELECT count(*) FROM posts WHERE ingest_day = ?", [fresh_day]).fetchone()[0],
            "sources": {s for (s,) in con.execute("SELECT DISTINCT source_file FROM posts WHERE ingest_day = ?",
                                                  [fresh_day]).fetchall()},
            "alerts": con.execute("SELECT sound_id, rule, level, status FROM alerts ORDER BY alert_id").fetchall(),
        }
    finally:
        con.close()


def _deliveries(receiver: WebhookReceiver) -> list[str]:
    return [r.headers["X-Trendtrace-Delivery"] for r in receiver.delivered]


def _a_landed_marker_runs_the_day_and_alerts_once_and_a_new_marker_reruns_it(shared: Shared, small_world) -> None:
    af, receiver, landing, warehouse = shared.af, shared.receiver, shared.landing, shared.warehouse
    scheduled = _wait_catchup(shared)  # the scheduled days first: one writer, and a known baseline
    world, _ = small_world
    # the small world's smallest days (5 and 17 posts, new sounds: level-1 alerts fire for them)
    first_day, second_day = sorted((world / "landing").glob("dt=*"))[:2]
    partition = landing / f"dt={FRESH_DAY}"
    first_exports = sorted(p.name for p in first_day.iterdir() if p.is_file())
    copy_partition_files(first_day, partition)  # the day's files, no marker yet
    # a partition whose files are all there but that was never declared complete: it must never run
    copy_partition_files(second_day, landing / f"dt={UNMARKED_DAY}")
    before = _warehouse_facts(warehouse, None)
    delivered0 = _deliveries(receiver)
    assert len(delivered0) == len(set(delivered0)) == len(before["alerts"])  # the scheduled days' alerts, once
    assert before["fresh_posts"] == 0
    af.wait("the landing watcher", lambda: af.watcher_ready() and af.watching(), START_TIMEOUT, every=2)
    time.sleep(3)  # a few polls (1 s) over the new files without a marker
    assert _fresh_runs(af) == []  # files without a marker started nothing

    # 1. the marker lands: the day runs (every stage, publish included) and each new alert is delivered once
    write_marker(partition)
    run1 = af.wait("the first fresh run", lambda: _finished(af, set()), RUN_TIMEOUT)
    assert run1["state"] == "success", af.tail()
    assert run1["logical_date"] is None and run1["conf"]["day"] == FRESH_DAY
    first = _warehouse_facts(warehouse, run1["dag_run_id"])
    assert set(first["stages"]) == set(TASKS)
    assert set(first["stages"].values()) <= {"success", "no_data"}
    assert first["stages"]["publish"] == "success"
    assert (warehouse.parent / "published" / warehouse.name).is_file()
    assert first["sources"] == set(first_exports)
    assert first["alerts"][:len(before["alerts"])] == before["alerts"]
    new1 = first["alerts"][len(before["alerts"]):]
    assert new1 and {a[3] for a in first["alerts"]} == {"sent"}
    delivered1 = _deliveries(receiver)
    assert delivered1[:len(delivered0)] == delivered0
    assert len(delivered1) == len(set(delivered1)) == len(first["alerts"])
    assert {r.headers["X-Trendtrace-Event"] for r in receiver.requests} == {"alert"}

    # the same marker, polled again and again (1 s interval), starts nothing more
    time.sleep(5)
    assert [r["dag_run_id"] for r in _fresh_runs(af)] == [run1["dag_run_id"]]

    # 2. more files for the same day, marker written again: the day reruns once and converges
    copy_partition_files(second_day, partition)
    write_marker(partition)
    run2 = af.wait("the rerun", lambda: _finished(af, {run1["dag_run_id"]}), RUN_TIMEOUT)
    assert run2["state"] == "success", af.tail()
    second = _warehouse_facts(warehouse, run2["dag_run_id"])
    assert set(second["stages"]) == set(TASKS)
    assert set(second["stages"].values()) <= {"success", "no_data"}
    time.sleep(3)  # the rerun's marker, polled again, starts nothing more either
    fresh = _fresh_runs(af)
    fresh_dag_runs = af.runs(FRESH)

    assert [r["dag_run_id"] for r in fresh] == [run1["dag_run_id"], run2["dag_run_id"]]
    assert [r["state"] for r in fresh_dag_runs] == ["success", "success"]  # one fresh-DAG run per marker write
    # no scheduled run came of the fresh days: the same two scheduled runs as before
    assert [r["dag_run_id"] for r in _scheduled_runs(af)] == [r["dag_run_id"] for r in scheduled]
    # the rerun read both days' files into the one partition: more records, every file, no post twice
    assert second["ingested"] > first["ingested"]
    assert second["sources"] == set(first_exports) | {p.name for p in second_day.iterdir() if p.is_file()}
    assert second["posts"][0] == second["posts"][1] > first["posts"][0]
    assert second["fresh_posts"] > first["fresh_posts"] > 0
    # only the marked day ran, besides the scheduled ones (the unmarked partition never did)
    assert second["days"] == [landing_builder.DAY1, landing_builder.DAY2, date.fromisoformat(FRESH_DAY)]
    # alerts: the earlier ones are kept (same keys), the rerun added only new ones, and nothing reached the
    # receiver twice: one delivery per alert in the warehouse, all sent
    assert second["alerts"][:len(first["alerts"])] == first["alerts"]
    assert {a[3] for a in second["alerts"]} == {"sent"}
    delivered = _deliveries(receiver)
    assert len(delivered) == len(set(delivered)) == len(second["alerts"])
    assert delivered[:len(delivered1)] == delivered1
