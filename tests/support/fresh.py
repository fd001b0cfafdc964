"""A real Airflow (`airflow standalone`: api-server, scheduler, dag-processor, triggerer; SQLite, LocalExecutor) over
a throw-away home, for the fresh-alerts test and bench: landing markers in, runs and webhook deliveries out.

Used by tests/integration/test_standalone.py and scripts/bench_fresh.py, so the measured path is the tested one.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pipelines.settings import airflow_sqlite_url

ROOT = Path(__file__).resolve().parents[2]
DAILY = "moment_to_movement"
FRESH = "moment_to_movement_fresh"
MARKER = "_SUCCESS"
# the processes `airflow standalone` starts, by their subcommand
COMPONENTS = ("api-server", "scheduler", "dag-processor", "triggerer")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def copy_partition_files(source: Path, target: Path, exports: list[str] | None = None) -> None:
    """Copy a sample-world partition's export files (all, or those named) and all its media into `target`,
    media first: a collection tool's files, before the marker that says the day is complete."""
    (target / "media").mkdir(parents=True, exist_ok=True)
    for media in sorted((source / "media").iterdir()):
        if not (target / "media" / media.name).exists():
            shutil.copy2(media, target / "media" / media.name)
    for export in sorted(p for p in source.iterdir() if p.is_file()):
        if exports is None or export.name in exports:
            shutil.copy2(export, target / export.name)


def write_marker(partition: Path) -> float:
    """Write (or rewrite) the completion marker; returns its modification time (epoch s): the landing time."""
    marker = partition / MARKER
    marker.write_text(f"complete {time.time():.6f}\n", encoding="utf-8")
    return marker.stat().st_mtime


class Standalone:
    """`airflow standalone` in its own session with its own home, ports and environment; stopped on exit.

    `extra_env` is added to the environment (TRENDTRACE_* settings: landing, warehouse, channels, config).
    """

    def __init__(self, home: Path, extra_env: dict[str, str]) -> None:
        self.home = home
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "TRENDTRACE"))}
        env.update({
            "AIRFLOW_HOME": str(home),
            "AIRFLOW_CONFIG": str(ROOT / "airflow.cfg"),
            "AIRFLOW__CORE__DAGS_FOLDER": str(ROOT / "dags"),
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": airflow_sqlite_url(home),
            "AIRFLOW__LOGGING__BASE_LOG_FOLDER": str(home / "logs"),
            "AIRFLOW__API__PORT": str(self.port),
            # the log servers' fixed default ports may be held by another Airflow on this machine
            "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(free_port()),
            "AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT": str(free_port()),
            "AIRFLOW__API__BASE_URL": self.base,
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{self.base}/execution/",
            "AIRFLOW__API_AUTH__JWT_SECRET": "fresh-test-only-secret-" + "y" * 48,
            # nothing here needs a re-parse (TRENDTRACE_START/END_DATE bound the schedule; fresh runs need none):
            # parse the DAG files rarely, so the dag-processor does not compete with the tasks for the 2 cores.
            # (The old [scheduler] name of this option has no effect in Airflow 3.3: it stayed at 30 s.)
            "AIRFLOW__DAG_PROCESSOR__MIN_FILE_PROCESS_INTERVAL": "600",
            "TRENDTRACE_PROGRESS": "0",
            # a first try the api-server was not up for yet is retried after 5 s, not the default 30
            "TRENDTRACE_RETRY_DELAY_S": "5",
        })
        env.update(extra_env)
        self.env = env
        self.log_path = home / "standalone.log"
        self.proc: subprocess.Popen | None = None
        self._seen: set[str] = set()  # the components seen running so far

    def __enter__(self) -> Standalone:
        self.home.mkdir(parents=True, exist_ok=True)
        self._log = self.log_path.open("w")
        self.proc = subprocess.Popen([sys.executable, "-m", "airflow", "standalone"], env=self.env, cwd=ROOT,
                                     stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True)
        return self

    def __exit__(self, *exc: object) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=45)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=15)
        self._log.close()

    def tail(self, chars: int = 6000) -> str:
        """What a failure shows: each run's state and its unfinished tasks, then the log's last lines without the
        api-server's access lines (the test's own polling fills the log with them)."""
        lines = [ln for ln in self.log_path.read_text(errors="replace").splitlines() if "[http.access]" not in ln]
        return self.states() + "\n" + "\n".join(lines)[-chars:]

    def states(self) -> str:
        """One line per DAG run (state) and per task instance of it not yet succeeded or skipped."""
        out = []
        try:
            out.append("health: " + json.dumps(self.api("monitor/health")))  # each component's last heartbeat
            for dag_id in (DAILY, FRESH):
                for run in self.runs(dag_id):
                    out.append(f"run {dag_id} {run['dag_run_id']}: {run['state']}")
                    out.extend(f"  {ti['task_id']}[{ti.get('map_index', -1)}] {ti['state']} try {ti.get('try_number')}"
                               for ti in self.task_instances(dag_id, run["dag_run_id"])
                               if ti["state"] not in ("success", "skipped"))
        except (urllib.error.URLError, TimeoutError, ConnectionError, json.JSONDecodeError, KeyError) as exc:
            out.append(f"(states unavailable: {exc!r})")
        return "\n".join(out)

    def api(self, path: str) -> Any:
        """GET one JSON document from the REST API (the repo's airflow.cfg makes loopback users admins)."""
        with urllib.request.urlopen(f"{self.base}/api/v2/{path}", timeout=30) as resp:
            return json.load(resp)

    def wait(self, what: str, check: Callable[[], Any], timeout: float, every: float = 1.0) -> Any:
        """Poll `check` until it returns something truthy. The bound is a failure timeout with the log's tail,
        never a speed check."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc is not None and self.proc.poll() is not None:
                raise RuntimeError(f"airflow standalone exited ({self.proc.returncode}) waiting for {what}\n"
                                   + self.tail())
            gone = self._components_gone()
            if gone:
                raise RuntimeError(f"airflow standalone's {', '.join(gone)} exited waiting for {what} (standalone "
                                   "goes on without it)\n" + self.tail())
            try:
                found = check()
            except (urllib.error.URLError, TimeoutError, ConnectionError, json.JSONDecodeError):
                found = None  # api-server not up yet, or busy
            if found:
                return found
            time.sleep(every)
        raise TimeoutError(f"no {what} after {timeout:.0f} s\n" + self.tail())

    def _components_gone(self) -> list[str]:
        """The components that were running and no longer are. `airflow standalone` does not notice a component
        that dies (a scheduler killed by a database error, say): its api-server goes on answering, so a wait would
        only time out."""
        running = self._components()
        self._seen |= running
        return sorted(self._seen - running)

    def _components(self) -> set[str]:
        """Which of Airflow's components run as children of the standalone process (read from /proc)."""
        found: set[str] = set()
        if self.proc is None:
            return found
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                parent = int(stat.read_text().rsplit(")", 1)[1].split()[1])
                if parent == self.proc.pid:
                    # "python …/airflow scheduler", or as the api-server renames itself: "airflow api_server -- …"
                    args = (stat.parent / "cmdline").read_bytes().decode(errors="replace").replace("\0", " ").split()
                    found.update(a.replace("_", "-") for a in args[:3] if a.replace("_", "-") in COMPONENTS)
            except (OSError, IndexError, ValueError):
                continue  # the process ended while it was read
        return found

    def runs(self, dag_id: str) -> list[dict]:
        return self.api(f"dags/{dag_id}/dagRuns?limit=100&order_by=run_after")["dag_runs"]

    def task_instances(self, dag_id: str, run_id: str) -> list[dict]:
        quoted = urllib.parse.quote(run_id, safe="")
        return self.api(f"dags/{dag_id}/dagRuns/{quoted}/taskInstances?limit=1000")["task_instances"]

    def watcher_ready(self) -> bool:
        """Both DAGs parsed and the landing asset's watcher registered (its trigger then starts in the triggerer)."""
        dags = {d["dag_id"] for d in self.api("dags?limit=100")["dags"]}
        if not {DAILY, FRESH} <= dags:
            return False
        assets = self.api("assets?limit=100")["assets"]
        return any(a["name"] == "trendtrace_landing" and a.get("watchers") for a in assets)

    def watching(self) -> bool:
        """The triggerer is running the marker trigger (its start-up line is in the standalone log)."""
        return "watching " in self.log_path.read_text(errors="replace")
