"""The real DAG, run by Airflow (`dag.test`) over two days of real audio, then rerun: same tables."""

from __future__ import annotations

import subprocess
import sys

import duckdb
import pytest

from tests.support import landing as landing_builder

pytestmark = pytest.mark.slow


def counts(warehouse):
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return {
            "posts": con.execute("SELECT count(*), count(DISTINCT post_id) FROM posts").fetchone(),
            "quarantine": con.execute("SELECT rule, count(*) FROM quarantine GROUP BY 1 ORDER BY 1").fetchall(),
            "fingerprints": con.execute("SELECT count(*) FROM audio_fingerprints").fetchone()[0],
            "stg": con.execute("SELECT count(*) FROM stg_posts").fetchone()[0],
        }
    finally:
        con.close()


def test_dag_runs_two_days_end_to_end_and_reruns_idempotently(airflow_db, pipeline_env):
    from pipelines.airflow_runner import run_days
    from pipelines.stages import TASKS

    landing, warehouse = pipeline_env
    land = landing_builder.build(landing)
    days = [landing_builder.DAY1, landing_builder.DAY2]

    outcomes = run_days(days)
    assert [o.problem for o in outcomes] == [None, None]
    assert [o.state for o in outcomes] == ["success", "success"]
    for o in outcomes:
        assert set(o.stages) == set(TASKS)
        assert {t: o.stages[t] for t in ("ingest", "validate", "fingerprint", "publish")} == dict.fromkeys(
            ("ingest", "validate", "fingerprint", "publish"), "success")
        assert set(o.stages.values()) <= {"success", "no_data"}  # no_data: e.g. a day with nothing to link

    first = counts(warehouse)
    n_posts = sum(1 for e in land.expected if e.rule is None)
    assert first["posts"] == (n_posts, n_posts)
    assert sum(n for _, n in first["quarantine"]) == len(land.expected) - n_posts
    assert first["fingerprints"] == sum(land.distinct_good_audio.values())

    # rerunning both days through Airflow replaces, never appends
    again = run_days(days)
    assert [o.problem for o in again] == [None, None]
    assert counts(warehouse) == first

    # the published copy is a readable snapshot analysts can open while the pipeline holds the writer lock
    published = warehouse.parent / "published" / warehouse.name
    writer = duckdb.connect(str(warehouse))
    try:
        con = duckdb.connect(str(published), read_only=True)
        assert con.execute("SELECT count(*) FROM posts").fetchone()[0] == n_posts
        con.close()
    finally:
        writer.close()


def test_a_day_before_any_start_date_still_runs(airflow_db, pipeline_env):
    """Airflow silently skips dates before start_date; run_days must not (historical exports)."""
    from pipelines.airflow_runner import run_days

    landing, warehouse = pipeline_env
    (landing / "dt=2019-06-01").mkdir()
    outcomes = run_days([landing_builder.DAY1.replace(year=2018)])
    assert outcomes[0].problem is None
    assert outcomes[0].stages["ingest"] == "no_data"


def test_cli_backfill_and_status(airflow_db, pipeline_env, tmp_path):
    landing, warehouse = pipeline_env
    landing_builder.build(landing)
    cmd = [sys.executable, "-m", "pipelines.cli"]
    env_args = ["--landing", str(landing), "--warehouse", str(warehouse)]
    proc = subprocess.run(cmd + ["backfill", *env_args], capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "2024-03-01" in proc.stdout and "2024-03-02" in proc.stdout
    assert str(warehouse) in proc.stdout.replace("\n", "")
    status = subprocess.run(cmd + ["status", *env_args], capture_output=True, text=True, timeout=120)
    assert status.returncode == 0, status.stderr[-3000:]
    assert "match_sounds" in status.stdout and "fingerprint" in status.stdout


def test_concurrent_runners_on_one_airflow_home_take_turns(airflow_db, pipeline_env):
    """dag.test replaces runs of the same logical date: a second runner must wait, not delete the first's run."""
    import fcntl
    import time
    from pathlib import Path

    landing, warehouse = pipeline_env
    (landing / "dt=2024-04-01").mkdir()
    holder = (Path(airflow_db) / "trendtrace-runner.lock").open("w")
    fcntl.flock(holder, fcntl.LOCK_EX)  # as if another backfill were running in this Airflow home
    second = subprocess.Popen(
        [sys.executable, "-m", "pipelines.cli", "run", "--date", "2024-04-01"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    try:
        time.sleep(8)
        assert second.poll() is None, second.stdout.read()  # still waiting for the lock
        assert not warehouse.exists()  # and it has not started: the warehouse is created under the lock
    finally:
        fcntl.flock(holder, fcntl.LOCK_UN)
        holder.close()
    output, _ = second.communicate(timeout=300)
    assert second.returncode == 0, output[-3000:]
    assert "waiting" in output
