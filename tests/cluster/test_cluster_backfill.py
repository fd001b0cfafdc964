"""The DAG on a real multi-process Airflow (scripts/cluster/cluster.sh: PostgreSQL, Redis, api-server, scheduler,
dag-processor, two Celery workers) over the first days of the small sample world, against the embedded run
(`dag.test` in one process, the `trendtrace backfill` path): the warehouses must be equal, table by table.

`make cluster-test` runs this file alone (progress shown); `make test` runs it with the rest of the suite.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path

import duckdb
import pytest

from tests.conftest import ROOT

pytestmark = [pytest.mark.cluster, pytest.mark.slow, pytest.mark.xdist_group("cluster")]

DAG = "moment_to_movement"
CLUSTER = ROOT / "scripts" / "cluster" / "cluster.sh"
WAIT_RUNS = ROOT / "scripts" / "cluster" / "wait_runs.py"
# Three days run every stage with rows to compare: quarantined input, fingerprint shards, matches against the
# days before's index, lineage with rejected claims, cascades, a sound merge and an alert (both first made by the
# third day's run). Each day costs ~1-1.5 min here: 12 Celery task processes, each importing its stage's
# libraries, on a loaded 2-core machine (the embedded run imports them once).
DAYS = 3
# Shards of 8 files: ~2 fingerprint shards a day, so the mapped task really fans out over the default worker.
SHARD_ENV = {"TRENDTRACE_FILES_PER_SHARD": "8", "TRENDTRACE_WORKERS": "1"}
# a try that failed on the loaded machine (an api-server answering too slowly) is retried after 5 s, not 30
RETRY_ENV = {"TRENDTRACE_RETRY_DELAY_S": "5"}
# The only columns the comparison leaves out (pipelines.digest.VOLATILE_COLUMNS): when, how long, and by which
# run (dag.test and the scheduler name their runs differently) something happened.
EXCLUDED = {
    "alerts": {"created_at", "run_id", "delivered_at", "last_error"},
    "alert_deliveries": {"delivered_at", "last_error"},
    "audio_fingerprints": {"created_at"},
    "audio_peaks": {"created_at"},
    "media_checks": {"checked_at", "decode_seconds"},
    "pipeline_runs": {"run_id", "seconds", "message", "started_at", "finished_at"},
    "quarantine": {"quarantined_at"},
    "ingest_quarantine": {"quarantined_at"},
    "validate_quarantine": {"quarantined_at"},
    "fingerprint_quarantine": {"quarantined_at"},
    "schema_migrations": {"applied_at"},
}


def _cluster_env(cluster_dir: Path, landing: Path, warehouse: Path, last_day: str) -> dict[str, str]:
    """The environment `cluster.sh up` records for every component; none of this test process's Airflow settings
    (its SQLite home) leak into the cluster."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "TRENDTRACE_"))}
    env |= SHARD_ENV | RETRY_ENV | {
        "CLUSTER_DIR": str(cluster_dir),
        "TRENDTRACE_LANDING": str(landing),
        "TRENDTRACE_WAREHOUSE": str(warehouse),
        "TRENDTRACE_END_DATE": last_day,  # the DAG's end date: the scheduler catches up exactly these days
        "TRENDTRACE_PROGRESS": "0",
    }
    return env


def _client_env(cluster_dir: Path) -> dict[str, str]:
    """os.environ plus the cluster's env file (its api-server's URL), as `source .cluster/env` would give."""
    out = subprocess.run(["bash", "-c", 'source "$1" && env -0', "_", str(cluster_dir / "env")],
                         capture_output=True, check=True)
    return dict(item.split("=", 1) for item in out.stdout.decode().split("\0") if "=" in item)


def _api(env: dict[str, str], path: str) -> dict:
    """GET one JSON document from the cluster's REST API (loopback users are admins: no token)."""
    with urllib.request.urlopen(f"{env['AIRFLOW__API__BASE_URL'].rstrip('/')}/api/v2/{path}", timeout=30) as resp:
        return json.load(resp)


def _tail_logs(cluster_dir: Path) -> str:
    parts = []
    for log in sorted((cluster_dir / "logs").glob("*.log")):
        lines = log.read_text(errors="replace").splitlines()[-25:]
        parts.append(f"--- {log.name}\n" + "\n".join(lines))
    return "\n".join(parts)


@pytest.mark.timeout(1800)
def test_backfill_through_the_celery_cluster_equals_the_embedded_run(small_world, airflow_db, tmp_path, monkeypatch):
    from pipelines import digest
    from pipelines.airflow_runner import run_days
    from pipelines.settings import landing_days
    from pipelines.stages import TASKS

    t0 = time.monotonic()
    world, _ = small_world
    landing = world / "landing"
    days = landing_days(landing)[:DAYS]
    assert len(days) == DAYS
    # PostgreSQL runs as the `postgres` user, which cannot enter pytest's private (0700) temp folders
    cluster_dir = Path(tempfile.mkdtemp(prefix="trendtrace-cluster-"))
    cluster_dir.chmod(0o755)
    embedded_wh, cluster_wh = tmp_path / "embedded" / "tt.duckdb", tmp_path / "cluster" / "tt.duckdb"
    env = _cluster_env(cluster_dir, landing, cluster_wh, days[-1].isoformat())
    up_log = tmp_path / "cluster-up.log"
    try:
        # the cluster starts (and its scheduler begins catching up) while the embedded run goes on in this process
        with up_log.open("w") as out:
            starting = subprocess.Popen(["bash", str(CLUSTER), "up"], env=env, stdout=out, stderr=subprocess.STDOUT)
        monkeypatch.setenv("TRENDTRACE_LANDING", str(landing))
        monkeypatch.setenv("TRENDTRACE_WAREHOUSE", str(embedded_wh))
        for key, value in SHARD_ENV.items():
            monkeypatch.setenv(key, value)
        outcomes = run_days(days)
        assert [o.problem for o in outcomes] == [None] * DAYS
        t_embedded = time.monotonic() - t0
        assert starting.wait(timeout=600) == 0, up_log.read_text() + _tail_logs(cluster_dir)
        print(f"cluster up: {up_log.read_text().strip()}", flush=True)

        client = _client_env(cluster_dir)
        waited = subprocess.run(
            [sys.executable, str(WAIT_RUNS), "--from", days[0].isoformat(), "--to", days[-1].isoformat(),
             "--timeout", "1200"], env=client)  # progress lines go straight to the output (`make cluster-test`: -s)
        assert waited.returncode == 0, _tail_logs(cluster_dir)
        t_cluster = time.monotonic() - t0

        # the work really went through Celery: DuckDB tasks on the warehouse queue, shards on the default one
        runs = {r["logical_date"][:10]: r for r in _api(client, f"dags/{DAG}/dagRuns?limit=1000")["dag_runs"]}
        assert {d: r["state"] for d, r in runs.items()} == {d.isoformat(): "success" for d in days}
        shard_counts = []
        for run in runs.values():
            run_id = urllib.parse.quote(run["dag_run_id"], safe="")
            tis = _api(client, f"dags/{DAG}/dagRuns/{run_id}/taskInstances?limit=1000")["task_instances"]
            queues = {t["task_id"]: t["queue"] for t in tis}
            assert {t for t, q in queues.items() if q == "warehouse"} == set(queues) - {"fingerprint_shard",
                                                                                        "match_shard"}
            shards = [t for t in tis if t["task_id"] == "fingerprint_shard" and t["state"] == "success"]
            assert all(t["queue"] == "default" for t in shards)
            # match_sounds' first pass ran as a mapped task too, on the default queue's worker (read-only DuckDB)
            matched = [t for t in tis if t["task_id"] == "match_shard" and t["state"] == "success"]
            assert matched and all(t["queue"] == "default" for t in matched)
            assert {t["state"] for t in tis} <= {"success", "skipped"}
            shard_counts.append(len(shards))
        assert max(shard_counts) >= 2, shard_counts
    finally:
        subprocess.run(["bash", str(CLUSTER), "down"], env=env, check=False)
    # down means down: no process of this cluster is left (pid files removed, PostgreSQL stopped)
    assert not list((cluster_dir / "run").glob("*.pid"))
    assert not (cluster_dir / "pg" / "postmaster.pid").exists()
    shutil.rmtree(cluster_dir)

    # every stage of every day recorded by both runs
    for wh in (embedded_wh, cluster_wh):
        con = duckdb.connect(str(wh), read_only=True)
        try:
            per_day = con.execute(
                "SELECT day, list(DISTINCT task ORDER BY task) FROM pipeline_runs GROUP BY day ORDER BY day"
            ).fetchall()
            posts = con.execute("SELECT count(*) FROM posts").fetchone()[0]
        finally:
            con.close()
        assert [d for d, _ in per_day] == days
        assert all(set(stages) == set(TASKS) for _, stages in per_day), per_day
        assert posts > 20

    # table by table: order-independent row hashes, leaving out only the columns named above
    assert {t: set(c) for t, c in digest.VOLATILE_COLUMNS.items()} == EXCLUDED
    saved = tmp_path / "embedded-digests.json"
    subprocess.run([sys.executable, "-m", "pipelines.digest", str(embedded_wh), "--save", str(saved)],
                   check=True, capture_output=True, cwd=ROOT)
    compared = subprocess.run([sys.executable, "-m", "pipelines.digest", str(cluster_wh), "--compare", str(saved)],
                              capture_output=True, text=True, cwd=ROOT)
    print(compared.stdout, flush=True)
    assert compared.returncode == 0, compared.stdout + compared.stderr
    tables = digest.table_digests(cluster_wh)
    assert sum(d.rows > 0 for d in tables.values()) >= 25  # the comparison is over real rows, not empty tables
    for table in ("alerts", "sound_merges", "lineage_rejections", "quarantine", "audio_fingerprints", "cascades"):
        assert tables[table].rows > 0, table
    print(f"cluster test: embedded run {t_embedded:.0f} s (overlapping the cluster start), cluster backfill done at "
          f"{t_cluster:.0f} s, total {time.monotonic() - t0:.0f} s for {DAYS} days", flush=True)
