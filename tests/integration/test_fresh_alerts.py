"""Fresh alerts on a real Airflow: `airflow standalone` (scheduler, triggerer, dag-processor, api-server; SQLite,
LocalExecutor) watches a landing zone; a day's `_SUCCESS` marker starts that day's run at once, its alerts reach a
real webhook receiver on 127.0.0.1 exactly once, and more files + the marker written again rerun the day, which
converges (nothing doubled, nothing resent). A partition without a marker never runs.

The daily schedule is moved out of the way (TRENDTRACE_START_DATE/END_DATE in 2099): every run here is a fresh
one. scripts/bench_fresh.py drives the same path and prints its latencies; no time is asserted here.
"""

from __future__ import annotations

import time
from datetime import date

import duckdb
import pytest
import yaml

from pipelines.stages import TASKS
from tests.support.fresh import DAILY, FRESH, Standalone, copy_partition_files, write_marker
from tests.support.receivers import WebhookReceiver

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("fresh_alerts")]

DAY = "2024-03-01"
# failure bounds only (the machine is shared and loaded): each fails with the Airflow log's tail
START_TIMEOUT = 600
RUN_TIMEOUT = 900


def _fresh_runs(af: Standalone) -> list[dict]:
    return [r for r in af.runs(DAILY) if r["dag_run_id"].startswith("fresh__")]


def _finished(af: Standalone, known: set[str]) -> dict | None:
    """The first fresh day run not in `known`, once it finished."""
    new = [r for r in _fresh_runs(af) if r["dag_run_id"] not in known]
    return new[0] if new and new[0]["state"] in ("success", "failed") else None


def _warehouse_facts(path, run_id: str) -> dict:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return {
            "stages": dict(con.execute("SELECT task, status FROM pipeline_runs WHERE run_id = ?", [run_id]).fetchall()),
            "ingested": con.execute("SELECT rows_in FROM pipeline_runs WHERE run_id = ? AND task = 'ingest'",
                                    [run_id]).fetchone()[0],
            "days": [d for (d,) in con.execute("SELECT DISTINCT day FROM pipeline_runs ORDER BY 1").fetchall()],
            "posts": con.execute("SELECT count(*), count(DISTINCT post_id) FROM posts").fetchone(),
            "sources": {s for (s,) in con.execute("SELECT DISTINCT source_file FROM posts").fetchall()},
            "alerts": con.execute("SELECT sound_id, rule, level, status FROM alerts ORDER BY alert_id").fetchall(),
        }
    finally:
        con.close()


@pytest.mark.timeout(2400)
def test_a_landed_marker_runs_the_day_and_alerts_once_and_a_new_marker_reruns_it(small_world, tmp_path):
    world, _ = small_world
    first_day, second_day = sorted((world / "landing").glob("dt=*"))[:2]
    landing = tmp_path / "landing"
    partition = landing / f"dt={DAY}"
    first_exports = sorted(p.name for p in first_day.iterdir() if p.is_file())
    copy_partition_files(first_day, partition)  # the day's files, no marker yet
    # a partition whose files are all there but that was never declared complete: it must never run
    copy_partition_files(second_day, landing / "dt=2024-03-02")
    warehouse = tmp_path / "warehouse" / "tt.duckdb"
    config = tmp_path / "alerts.yaml"
    # level 1: every sound the day brings crosses it, so the first run has alerts to deliver
    config.write_text(yaml.safe_dump({
        "rules": [{"name": "first_creator", "kind": "cumulative_creators", "levels": [1]}],
        "delivery": {"timeout_s": 10, "attempts_per_run": 3, "backoff_s": 1, "backoff_factor": 2,
                     "max_attempts": 30, "top_cascades": 2, "report": ""},
    }))
    with WebhookReceiver() as receiver, Standalone(tmp_path / "airflow", {
        "TRENDTRACE_LANDING": str(landing),
        "TRENDTRACE_WAREHOUSE": str(warehouse),
        "TRENDTRACE_ALERTS_CONFIG": str(config),
        "TRENDTRACE_WEBHOOK_URL": receiver.url,
        "TRENDTRACE_FRESH_POLL_S": "1",
        "TRENDTRACE_WORKERS": "1",
        "TRENDTRACE_START_DATE": "2099-12-31", "TRENDTRACE_END_DATE": "2099-12-31",
    }) as af:
        af.wait("the landing watcher", lambda: af.watcher_ready() and af.watching(), START_TIMEOUT, every=2)
        assert _fresh_runs(af) == []  # files without a marker started nothing

        # 1. the marker lands: the day runs (every stage, publish included) and each alert is delivered once
        write_marker(partition)
        run1 = af.wait("the first fresh run", lambda: _finished(af, set()), RUN_TIMEOUT)
        assert run1["state"] == "success", af.tail()
        assert run1["logical_date"] is None and run1["conf"]["day"] == DAY
        first = _warehouse_facts(warehouse, run1["dag_run_id"])
        assert set(first["stages"]) == set(TASKS)
        assert set(first["stages"].values()) <= {"success", "no_data"}
        assert first["stages"]["publish"] == "success"
        assert (warehouse.parent / "published" / warehouse.name).is_file()
        assert first["sources"] == set(first_exports)
        assert first["alerts"] and {a[3] for a in first["alerts"]} == {"sent"}
        delivered1 = [r.headers["X-Trendtrace-Delivery"] for r in receiver.delivered]
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
        scheduled = [r for r in af.runs(DAILY) if not r["dag_run_id"].startswith("fresh__")]

    assert [r["dag_run_id"] for r in fresh] == [run1["dag_run_id"], run2["dag_run_id"]]
    assert [r["state"] for r in fresh_dag_runs] == ["success", "success"]  # one fresh-DAG run per marker write
    assert scheduled == []
    # the rerun read both days' files into the one partition: more records, every file, no post twice
    assert second["ingested"] > first["ingested"]
    assert second["sources"] == set(first_exports) | {p.name for p in second_day.iterdir() if p.is_file()}
    assert second["posts"][0] == second["posts"][1] > first["posts"][0]
    # only the marked day ever ran
    assert second["days"] == [date.fromisoformat(DAY)]
    # alerts: the first run's are kept (same keys), the rerun added only new ones, and nothing reached the
    # receiver twice: one delivery per alert in the warehouse, all sent
    assert second["alerts"][:len(first["alerts"])] == first["alerts"]
    assert {a[3] for a in second["alerts"]} == {"sent"}
    delivered = [r.headers["X-Trendtrace-Delivery"] for r in receiver.delivered]
    assert len(delivered) == len(set(delivered)) == len(second["alerts"])
    assert delivered[:len(delivered1)] == delivered1
