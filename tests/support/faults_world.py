"""The fault tests' clean run (tests/integration/test_faults.py, tests/cluster/test_cluster_faults.py): the first two
days of the small sample world run stage by stage, the warehouse folder kept after every stage, alerts delivered to a
real webhook receiver; built once per test run and only read afterwards."""

from __future__ import annotations

import importlib
import json
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest
import yaml

from pipelines import settings
from pipelines.alerts import channels
from pipelines.faults import ENV_FAULT
from pipelines.stages import TASKS
from tests.conftest import exclusive, run_shared_dir
from tests.support.receivers import WebhookReceiver

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
    with settings.environ_restored(*values, *CLEARED):
        for key in CLEARED:
            os.environ.pop(key, None)
        os.environ.update(values)
        yield


def run_stage(stage: str, day: date, run_id: str) -> None:
    module = importlib.import_module(f"pipelines.stages.{stage}")
    result = module.run(day, run_id)
    assert result.status in ("success", "no_data"), (stage, day, result)


@dataclass(frozen=True)
class CleanRun:
    """The clean run's landing zone, alerts config and the warehouse folder as each stage of each day left it."""

    root: Path
    summary: dict  # {"deliveries": {day: [X-Trendtrace-Delivery ids the receiver got that day, in order]}}
    landing: Path  # the small sample world's own landing zone (read only): the cluster test runs from it too

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


def _build_clean_run(root: Path, landing: Path) -> dict:
    root.mkdir(parents=True)
    (root / "alerts.yaml").write_text(yaml.safe_dump(ALERTS), encoding="utf-8")
    wh_dir = root / "warehouse"
    (root / "states" / "empty").mkdir(parents=True)
    clean = CleanRun(root, {}, landing)
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
            summary = _build_clean_run(root, world / "landing")
            done.write_text(json.dumps(summary))
    return CleanRun(root, json.loads(done.read_text()), world / "landing")


