"""Issue 19, item 5: faults survived, each on the first two days of the small sample world (real audio, a real DuckDB
file, real receivers on 127.0.0.1, real processes killed with SIGKILL, a real full disk).

Every test ends with the rerun converging to the tables of a clean run (pipelines.digest: order-independent row hashes,
only wall-clock and run-id columns left out): nothing lost, nothing doubled, alerts delivered once per delivery id,
quarantine intact. The clean run is made once per test session, stage by stage, keeping a copy of the warehouse folder
after every stage, so each fault starts from the exact state its stage saw and is compared with the state its stage
left (every stage is a pure function of the warehouse before it and the landing zone).

The Celery faults (a worker killed in the middle of a fingerprint shard, PostgreSQL restarted mid-run) are in
tests/cluster/test_cluster_faults.py. docs/scaling.md, "Faults", says what each fault does and what the user does.
"""

from __future__ import annotations

import importlib
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb
import pytest
import yaml

from pipelines import digest
from pipelines.alerts import channels
from pipelines.faults import ENV_FAULT
from pipelines.stages import TASKS
from tests.conftest import ROOT, exclusive, run_shared_dir
from tests.support.receivers import WebhookReceiver, free_port

DAYS = (date(2024, 3, 1), date(2024, 3, 2))
WAREHOUSE_NAME = "trendtrace.duckdb"
# Levels low enough for the two days' sounds to cross them: day 2 records new alerts and delivers them.
ALERTS = {
    "rules": [{"name": "creators", "kind": "cumulative_creators", "levels": [2, 3, 5, 10]}],
    "delivery": {"timeout_s": 2, "attempts_per_run": 3, "backoff_s": 0.01, "backoff_factor": 2, "max_attempts": 30,
                 "top_cascades": 2},
}
CLEARED = (ENV_FAULT, "TRENDTRACE_WORK_DIR", channels.ENV_WEBHOOK_SECRET, channels.ENV_SMTP_HOST,
           "AIRFLOW_CONN_TRENDTRACE_WEBHOOK", "AIRFLOW_CONN_TRENDTRACE_SMTP", "TRENDTRACE_SLACK_WEBHOOK_URL")


@contextmanager
def environ(values: dict[str, str]) -> Iterator[None]:
    """os.environ with `values` set and the fault/channel settings of CLEARED removed, restored afterwards."""
    saved = {k: os.environ.get(k) for k in (*values, *CLEARED)}
    for key in CLEARED:
        os.environ.pop(key, None)
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def run_stage(stage: str, day: date, run_id: str) -> None:
    module = importlib.import_module(f"pipelines.stages.{stage}")
    result = module.run(day, run_id)
    assert result.status in ("success", "no_data"), (stage, day, result)


@dataclass(frozen=True)
class CleanRun:
    """The clean run's landing zone, alerts config and the warehouse folder as each stage of each day left it."""

    root: Path
    summary: dict

    @property
    def landing(self) -> Path:
        return self.root / "landing"

    @property
    def alerts_config(self) -> Path:
        return self.root / "alerts.yaml"

    def after(self, day: date, stage: str) -> Path:
        """The warehouse folder right after `stage` of `day` committed (and recorded its run)."""
        return self.root / "states" / f"{day}-{TASKS.index(stage):02d}-{stage}"

    def before(self, day: date, stage: str) -> Path:
        i = TASKS.index(stage)
        if i:
            return self.after(day, TASKS[i - 1])
        earlier = DAYS.index(day)
        return self.after(DAYS[earlier - 1], TASKS[-1]) if earlier else self.root / "states" / "empty"

    def env(self, warehouse_dir: Path, webhook_url: str) -> dict[str, str]:
        return {"TRENDTRACE_LANDING": str(self.landing), "TRENDTRACE_WAREHOUSE": str(warehouse_dir / WAREHOUSE_NAME),
                "TRENDTRACE_ALERTS_CONFIG": str(self.alerts_config), channels.ENV_WEBHOOK_URL: webhook_url,
                "TRENDTRACE_PROGRESS": "0"}


def _build_clean_run(root: Path, world: Path) -> dict:
    landing = root / "landing"
    for day in DAYS:
        shutil.copytree(world / "landing" / f"dt={day}", landing / f"dt={day}")
    (root / "alerts.yaml").write_text(yaml.safe_dump(ALERTS), encoding="utf-8")
    wh_dir = root / "warehouse"
    (root / "states" / "empty").mkdir(parents=True)
    clean = CleanRun(root, {})
    deliveries: dict[str, list[str]] = {}
    with WebhookReceiver() as hook, environ(clean.env(wh_dir, hook.url)):
        for day in DAYS:
            seen = len(hook.delivered)
            for stage in TASKS:
                run_stage(stage, day, f"clean-{day}")
                shutil.copytree(wh_dir, clean.after(day, stage))
            deliveries[day.isoformat()] = [r.headers[channels.DELIVERY_HEADER] for r in hook.delivered[seen:]]
    return {"deliveries": deliveries}


@pytest.fixture(scope="session")
def clean_run(small_world, tmp_path_factory) -> CleanRun:
    """Built once per test run (by whichever xdist worker asks first, under a lock) and only read afterwards."""
    world, _ = small_world
    shared = run_shared_dir(tmp_path_factory)
    root, done = shared / "faults_clean", shared / "faults_clean.summary.json"
    with exclusive(shared / "faults_clean.lock"):
        if not done.exists():
            if root.exists():  # a worker died half-way through building it
                shutil.rmtree(root)
            summary = _build_clean_run(root, world)
            done.write_text(json.dumps(summary))
    return CleanRun(root, json.loads(done.read_text()))


def restore(state: Path, tmp_path: Path) -> Path:
    """A private copy of one of the clean run's warehouse folders; returns the folder."""
    target = tmp_path / "warehouse"
    shutil.copytree(state, target)
    return target


def digests(warehouse_dir: Path) -> dict[str, digest.TableDigest]:
    return digest.table_digests(warehouse_dir / WAREHOUSE_NAME)


def published_digests(warehouse_dir: Path) -> dict[str, digest.TableDigest]:
    return digest.table_digests(warehouse_dir / "published" / WAREHOUSE_NAME)


def without(tables: dict[str, digest.TableDigest], *names: str) -> dict[str, digest.TableDigest]:
    return {t: d for t, d in tables.items() if t not in names}


# Stages whose pipeline_runs.rows_out counts what that run itself did, not what the day holds: adoption's the rows it
# rewrote (it recomputes only what changed since the rows already there), alerts' the alerts it newly recorded. Any
# rerun, faulted or not, reports fewer; the tables those counts are about are compared in full.
RUN_DEPENDENT_ROWS_OUT = ("adoption", "alerts")


def runs(warehouse_dir: Path) -> list[tuple]:
    """pipeline_runs as the comparison sees it: which stage ran for which day, how it ended, what it counted."""
    con = duckdb.connect(str(warehouse_dir / WAREHOUSE_NAME), read_only=True)
    try:
        return con.execute("SELECT day, task, status, rows_in, CASE WHEN list_contains($run_dependent, task) THEN NULL "
                           "ELSE rows_out END FROM pipeline_runs ORDER BY ALL",
                           {"run_dependent": list(RUN_DEPENDENT_ROWS_OUT)}).fetchall()
    finally:
        con.close()


def same_tables(clean_dir: Path, warehouse_dir: Path) -> list[str]:
    """What differs between two warehouses (nothing, if equal): every table's digest, pipeline_runs as in `runs`."""
    lines = digest.differences(without(digests(clean_dir), "pipeline_runs"),
                               without(digests(warehouse_dir), "pipeline_runs"))
    if runs(clean_dir) != runs(warehouse_dir):
        lines.append(f"pipeline_runs: {runs(clean_dir)} vs {runs(warehouse_dir)}")
    return lines


RUN_STAGE = """
import sys
from datetime import date
import importlib
result = importlib.import_module("pipelines.stages." + sys.argv[1]).run(date.fromisoformat(sys.argv[2]), sys.argv[3])
print("stage ended", result.status, flush=True)
"""


def run_killed(stage: str, day: date, fault: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    """Run one stage in its own process with TRENDTRACE_FAULT set: it must die by SIGKILL where the fault says."""
    child_env = {k: v for k, v in os.environ.items() if k not in CLEARED} | env | {ENV_FAULT: fault}
    proc = subprocess.run([sys.executable, "-c", RUN_STAGE, stage, day.isoformat(), "run-killed"],
                          capture_output=True, text=True, timeout=600, cwd=ROOT, env=child_env)
    assert proc.returncode == -9, f"{fault}: exit {proc.returncode}, not SIGKILL\n{proc.stdout}\n{proc.stderr[-3000:]}"
    assert "trendtrace fault: SIGKILL" in proc.stderr and "stage ended" not in proc.stdout
    return proc


def killed_runs(warehouse_dir: Path) -> list[tuple]:
    con = duckdb.connect(str(warehouse_dir / WAREHOUSE_NAME), read_only=True)
    try:
        return con.execute("SELECT task, status FROM pipeline_runs WHERE run_id = 'run-killed'").fetchall()
    finally:
        con.close()


# --- 1. the writer SIGKILLed at its DuckDB commit --------------------------------------------------------------

KILLS = [
    ("ingest", "kill_before_commit"),
    ("ingest", "kill_during_commit"),
    ("ingest", "kill_after_commit"),
    ("fingerprint", "kill_during_commit"),
    ("match_sounds", "kill_during_commit"),
    ("adoption", "kill_after_commit"),
    ("publish", "kill_during_commit"),  # the published copy's own commit, before it replaces the old copy
]


@pytest.mark.parametrize(("stage", "point"), KILLS, ids=[f"{s}-{p}" for s, p in KILLS])
def test_a_writer_killed_at_its_commit_is_rerun_to_the_clean_tables(clean_run, tmp_path, stage, point):
    day = DAYS[1]  # the second day: its stages build on the first day's rows (the match index, cumulative counts)
    wh_dir = restore(clean_run.before(day, stage), tmp_path)
    env = clean_run.env(wh_dir, f"http://127.0.0.1:{free_port()}/hooks/trendtrace")
    proc = run_killed(stage, day, f"{point}:{stage}", env)

    before, after = digests(clean_run.before(day, stage)), digests(clean_run.after(day, stage))
    killed = digests(wh_dir)
    assert killed_runs(wh_dir) == []  # a SIGKILLed stage cannot record its run
    if point == "kill_after_commit":
        # durable: every row of the commit is there, only the stage's own pipeline_runs row is missing
        assert digest.differences(without(after, "pipeline_runs"), without(killed, "pipeline_runs")) == []
        assert killed["pipeline_runs"].rows == after["pipeline_runs"].rows - 1
    else:
        # atomic: nothing of the transaction is kept (a torn log included), the warehouse is as the stage found it
        assert digest.differences(before, killed) == [], proc.stderr[-2000:]
        assert before != after  # the stage does change tables, so the comparison above could fail
    if stage == "publish":  # the analysts' copy is still the previous day's, whole
        assert published_digests(wh_dir) == published_digests(clean_run.before(day, stage))

    with environ(env):  # the retry (Airflow's, or `trendtrace run --date D`)
        run_stage(stage, day, "run-retry")
    assert same_tables(clean_run.after(day, stage), wh_dir) == []
    if stage == "publish":
        assert digest.differences(published_digests(clean_run.after(day, stage)), published_digests(wh_dir)) == []
        assert sorted(p.name for p in (wh_dir / "published").iterdir()) == ["reports", WAREHOUSE_NAME]  # no .tmp
    assert not list((wh_dir / "pending_runs").glob("*.json"))


# --- 2. the alerts stage killed between its outbox's steps: each alert reaches the receiver once per delivery id ----

# The second day's alerts stage commits its crossings (commit 1), then per alert the webhook's delivery record
# (2, 4, ...) and the alert's mark (3, 5, ...).
ALERT_KILLS = [
    ("kill_after_commit", 1, "recorded, nothing sent yet"),
    ("kill_before_commit", 2, "the first alert was received but its delivery not recorded"),
    ("kill_after_commit", 2, "the first alert's delivery recorded, the alert not yet marked"),
    ("kill_during_commit", 3, "the first alert's mark torn"),
]


@pytest.mark.parametrize(("point", "nth", "what"), ALERT_KILLS, ids=[f"{p}-{n}" for p, n, _ in ALERT_KILLS])
def test_alerts_killed_between_outbox_steps_reach_the_receiver_once_per_delivery_id(
    clean_run, tmp_path, point, nth, what
):
    day = DAYS[1]
    expected = clean_run.summary["deliveries"][day.isoformat()]
    assert len(expected) >= 2  # the day delivers several alerts: "the first" is not the only one
    wh_dir = restore(clean_run.before(day, "alerts"), tmp_path)
    with WebhookReceiver() as hook:  # up the whole time: what it receives is what the kill let out
        env = clean_run.env(wh_dir, hook.url)
        run_killed("alerts", day, f"{point}:alerts:{nth}", env)
        sent_before_kill = [r.headers[channels.DELIVERY_HEADER] for r in hook.delivered]
        with environ(env):
            run_stage("alerts", day, "run-retry")
        received = [r.headers[channels.DELIVERY_HEADER] for r in hook.delivered]
    assert sent_before_kill == ([] if nth == 1 else expected[:1]), what
    if (point, nth) == ("kill_before_commit", 2):
        # the receiver answered 2xx, the process died before recording it: sent again under the same id (at least
        # once on the wire), which a receiver deduplicating on X-Trendtrace-Delivery drops
        assert received == expected[:1] + expected
    else:
        assert received == expected  # the retry sent only what was not confirmed
    assert same_tables(clean_run.after(day, "alerts"), wh_dir) == []
