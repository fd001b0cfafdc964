"""Wait until the cluster has run moment_to_movement for every given day, printing progress as runs move.

    python scripts/cluster/wait_runs.py --from 2024-03-01 --to 2024-03-03 [--timeout 900]

Reads the cluster's REST API (`/api/v2/dags/{dag}/dagRuns`, `.../taskInstances`; the repo's airflow.cfg makes
every loopback user an admin, so no token is needed) at `AIRFLOW__API__BASE_URL` (set by sourcing the cluster's
env file, scripts/cluster/cluster.sh env). Exit 0 when every day's run succeeded, 1 as soon as one failed (its
failed tasks are printed), 2 on timeout. The runs themselves are made by the scheduler: the DAG catches up every
landing partition between its start and end dates (dags/moment_to_movement.py).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from datetime import date, timedelta

DAG_ID = "moment_to_movement"


def api(path: str) -> dict:
    """GET one JSON document from the cluster's api-server."""
    base = os.environ["AIRFLOW__API__BASE_URL"].rstrip("/")
    with urllib.request.urlopen(f"{base}/api/v2/{path}", timeout=30) as resp:
        return json.load(resp)


def runs_by_day() -> dict[date, dict]:
    """The DAG's runs keyed by the day they process (their logical date, UTC)."""
    out: dict[date, dict] = {}
    for run in api(f"dags/{DAG_ID}/dagRuns?order_by=logical_date&limit=1000")["dag_runs"]:
        if run.get("logical_date"):
            out[date.fromisoformat(run["logical_date"][:10])] = run
    return out


def task_instances(run_id: str) -> list[dict]:
    """Every task instance of one run (mapped shards included), as the api-server reports them."""
    quoted = urllib.parse.quote(run_id, safe="")
    return api(f"dags/{DAG_ID}/dagRuns/{quoted}/taskInstances?limit=1000")["task_instances"]


def wait(days: list[date], timeout: float) -> int:
    t0 = time.monotonic()
    last = None
    while True:
        try:
            runs = runs_by_day()
        except (urllib.error.URLError, TimeoutError, ConnectionError) as exc:  # api-server busy or restarting
            print(f"[{time.monotonic() - t0:5.0f} s] api not answering ({exc}); retrying", flush=True)
            runs = {}
        states = {d: runs[d]["state"] if d in runs else "not created" for d in days}
        line = ", ".join(f"{d}: {s}" for d, s in states.items())
        if line != last:
            done = sum(s == "success" for s in states.values())
            print(f"[{time.monotonic() - t0:5.0f} s] {done}/{len(days)} days done; {line}", flush=True)
            last = line
        failed = [d for d, s in states.items() if s == "failed"]
        if failed:
            for d in failed:
                bad = [f"{t['task_id']}[{t['map_index']}]" if t["map_index"] >= 0 else t["task_id"]
                       for t in task_instances(runs[d]["dag_run_id"]) if t["state"] not in ("success", "skipped")]
                print(f"run for {d} failed; tasks not successful: {', '.join(bad) or 'none'}", flush=True)
            return 1
        if all(s == "success" for s in states.values()):
            return 0
        if time.monotonic() - t0 > timeout:
            print(f"timeout after {timeout:.0f} s", flush=True)
            return 2
        time.sleep(2)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--from", dest="first", required=True, type=date.fromisoformat, help="first day YYYY-MM-DD")
    p.add_argument("--to", dest="last", required=True, type=date.fromisoformat, help="last day, inclusive")
    p.add_argument("--timeout", type=float, default=900.0, help="seconds to wait at most")
    args = p.parse_args(argv)
    days = [args.first + timedelta(days=i) for i in range((args.last - args.first).days + 1)]
    return wait(days, args.timeout)


if __name__ == "__main__":
    sys.exit(main())
