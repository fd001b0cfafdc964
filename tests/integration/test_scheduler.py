"""`make serve`'s path: the real scheduler (airflow standalone, LocalExecutor) runs the DAG by itself.

Tasks then run in separate supervised processes that talk to the api-server, which `dag.test` never
exercises (shared JWT secret, no metadata-DB access from task code, catchup bounded by the landing zone).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from pipelines.stages import STAGES
from tests.support import landing as landing_builder

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _runs_done(published: Path) -> dict:
    if not published.exists():
        return {}
    try:
        con = duckdb.connect(str(published), read_only=True)
    except duckdb.IOException:
        return {}
    try:
        return dict(con.execute(
            "SELECT day, count(DISTINCT task) FROM pipeline_runs WHERE run_id LIKE 'scheduled__%' GROUP BY 1"
        ).fetchall())
    finally:
        con.close()


def test_standalone_scheduler_runs_every_partition_day(tmp_path):
    landing = tmp_path / "landing"
    landing_builder.build(landing)
    home = tmp_path / "airflow"
    warehouse = tmp_path / "wh.duckdb"
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "TRENDTRACE"))}
    env.update({
        "AIRFLOW_HOME": str(home),
        "AIRFLOW_CONFIG": str(ROOT / "airflow.cfg"),
        "AIRFLOW__CORE__DAGS_FOLDER": str(ROOT / "dags"),
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}",
        "AIRFLOW__LOGGING__BASE_LOG_FOLDER": str(home / "logs"),
        "AIRFLOW__API__PORT": str(port),
        # the scheduler's and triggerer's log servers default to fixed ports (8793, 8794): another run on this
        # machine (another checkout's `make test` or `make serve`) would hold them
        "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(_free_port()),
        "AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT": str(_free_port()),
        "AIRFLOW__API__BASE_URL": f"http://127.0.0.1:{port}",
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{port}/execution/",
        "AIRFLOW__API_AUTH__JWT_SECRET": "test-only-secret-" + "x" * 48,
        "AIRFLOW__SCHEDULER__MIN_FILE_PROCESS_INTERVAL": "5",
        "TRENDTRACE_LANDING": str(landing),
        "TRENDTRACE_WAREHOUSE": str(warehouse),
        "TRENDTRACE_PROGRESS": "0",
    })
    log = (tmp_path / "standalone.log").open("w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "airflow", "standalone"], env=env, stdout=log, stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    published = warehouse.parent / "published" / warehouse.name
    done: dict = {}
    try:
        # not a speed check: a bound that fails with the log's tail before pytest-timeout (900 s) kills the test;
        # under load this test has taken over 420 s, its old bound
        deadline = time.monotonic() + 840
        while time.monotonic() < deadline and proc.poll() is None:
            done = _runs_done(published)
            # the last day's publish snapshots the warehouse before writing its own row: all stages but publish
            if done.get(landing_builder.DAY2, 0) >= len(STAGES) - 1:
                break
            time.sleep(3)
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
        log.close()
    tail = (tmp_path / "standalone.log").read_text(errors="replace")[-4000:]
    assert done.get(landing_builder.DAY2, 0) >= len(STAGES) - 1, tail
    con = duckdb.connect(str(warehouse), read_only=True)
    tasks_per_day = con.execute(
        "SELECT day, count(DISTINCT task) FROM pipeline_runs WHERE status <> 'failed' GROUP BY 1 ORDER BY 1"
    ).fetchall()
    failed = con.execute("SELECT count(*) FROM pipeline_runs WHERE status = 'failed'").fetchone()[0]
    posts = con.execute("SELECT count(*) FROM posts").fetchone()[0]
    con.close()
    # every stage of both days ran, and catchup stopped at the latest partition: no empty runs up to today
    assert tasks_per_day == [(landing_builder.DAY1, len(STAGES)), (landing_builder.DAY2, len(STAGES))]
    assert failed == 0
    assert posts > 0
