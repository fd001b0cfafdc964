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
    n_posts = sum(1 for e in land.expected if e.rule is None and not e.reobserved)
    n_reobserved = sum(1 for e in land.expected if e.reobserved)
    assert first["posts"] == (n_posts, n_posts)
    assert sum(n for _, n in first["quarantine"]) == len(land.expected) - n_posts - n_reobserved
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

    landing, _warehouse = pipeline_env
    (landing / "dt=2019-06-01").mkdir()
    outcomes = run_days([landing_builder.DAY1.replace(year=2018)])
    assert outcomes[0].problem is None
    assert outcomes[0].stages["ingest"] == "no_data"


def test_cli_backfill_and_status(airflow_db, pipeline_env, tmp_path):
    landing, warehouse = pipeline_env
    landing_builder.build(landing)
    cmd = [sys.executable, "-m", "pipelines.cli"]
    env_args = ["--landing", str(landing), "--warehouse", str(warehouse)]
    proc = subprocess.run([*cmd, "backfill", *env_args], capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "2024-03-01" in proc.stdout and "2024-03-02" in proc.stdout
    assert str(warehouse) in proc.stdout.replace("\n", "")
    status = subprocess.run([*cmd, "status", *env_args], capture_output=True, text=True, timeout=120)
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


def test_fingerprint_runs_as_mapped_shards_resumes_and_reruns_idempotently(airflow_db, pipeline_env, monkeypatch):
    """More files than one shard: several map indexes run, every file lands once, finished shards are reused."""
    from airflow.models.dagrun import DagRun

    from pipelines.airflow_runner import DAG_ID, run_days
    from pipelines.stages import fingerprint_shards, ingest, validate

    landing, warehouse = pipeline_env
    land = landing_builder.build(landing)
    monkeypatch.setenv("TRENDTRACE_FILES_PER_SHARD", "3")  # day 1 has 7 new media files -> 3 shards
    day1, day2 = landing_builder.DAY1, landing_builder.DAY2

    # an earlier attempt died in day 1's fingerprint stage: shards 0 and 2 finished, shard 1 was killed mid-write
    for stage in (ingest, validate):
        stage.run(day1, "earlier")
    shards = fingerprint_shards.plan_day(day1)
    assert len(shards) == 3
    for s in shards:
        fingerprint_shards.run_shard(s)
    killed = fingerprint_shards.output_dir(shards[1])
    (killed / "_SUCCESS.json").unlink()
    (killed / "audio_fingerprints.parquet").rename(killed / ".audio_fingerprints.parquet.tmp-0")

    outcomes = run_days([day1, day2])
    assert [o.problem for o in outcomes] == [None, None]
    mapped = {k: v for k, v in outcomes[0].task_states.items() if k.startswith("fingerprint_shard")}
    assert mapped == {f"fingerprint_shard[{i}]": "success" for i in range(3)}

    def labels(run_id: str) -> list[str]:
        return sorted(ti.rendered_map_index for ti in DagRun.fetch_task_instances(
            dag_id=DAG_ID, run_id=run_id, task_ids=["fingerprint_shard"]))

    assert labels(outcomes[0].run_id) == [f"dt={day1} shard {i}/3 ({n} files)" for i, n in ((1, 3), (2, 3), (3, 2))]
    assert labels(outcomes[1].run_id) == [f"dt={day2} shard 1/1 (3 files)"]
    assert outcomes[0].stages["fingerprint"] == "success"

    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        message = con.execute("SELECT message FROM pipeline_runs WHERE run_id = ? AND task = 'fingerprint'",
                              [outcomes[0].run_id]).fetchone()[0]
        checks = con.execute("SELECT count(*), count(DISTINCT audio_sha256) FROM media_checks").fetchone()
    finally:
        con.close()
    assert "in 3 shards (2 reused" in message  # only the killed shard was decoded again
    assert checks == (3 + 3 + 2 + 3, 3 + 3 + 2 + 3)  # every planned file exactly once
    first = counts(warehouse)
    assert first["fingerprints"] == sum(land.distinct_good_audio.values())
    assert not (warehouse.parent / "work" / "fingerprint" / f"dt={day1}").exists()  # cleaned after the load

    again = run_days([day1, day2])
    assert [o.problem for o in again] == [None, None]
    assert counts(warehouse) == first
    assert again[0].task_states["fingerprint_shard"] == "skipped"  # nothing new: zero shards mapped
    assert again[0].stages["fingerprint"] == "success"
