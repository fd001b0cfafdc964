"""Fresh alerts, landing → alert delivered: a real Airflow (`airflow standalone`: scheduler, triggerer,
dag-processor, api-server; SQLite, LocalExecutor) watches an empty landing zone; a day's files are copied in, its
`_SUCCESS` marker written, and the seconds from the marker to each step are printed, as measured:

    marker written → trigger fired (triggerer) → fresh DAG run → day run started → day run done → first alert
    delivered to a webhook receiver on 127.0.0.1

then the same day gets more files and its marker is written again (a rerun), measured the same way.

    uv run python scripts/bench_fresh.py [--world DIR] [--poll 5]

`--world`: a sample world (its first two partitions are used); default: the small world (2 days, seed 11) built
into a temporary folder first. So that the first run has something to deliver, the alert rule is
`cumulative_creators` with level 1 (every sound of the day crosses it); the measured path is the normal one.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.support.fresh import DAILY, FRESH, Standalone, copy_partition_files, write_marker  # noqa: E402
from tests.support.receivers import WebhookReceiver  # noqa: E402

DAY = "2024-03-01"


def _epoch(iso: str | None) -> float | None:
    return datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp() if iso else None


def _measure(af: Standalone, receiver: WebhookReceiver, t_land: float, seen_before: set[str], delivered_before: int,
             timeout: float) -> dict[str, float | None]:
    """Wait for the day run started by the marker written at `t_land` and its first new delivery; seconds since."""
    def new_run():
        runs = [r for r in af.runs(DAILY)
                if r["dag_run_id"].startswith("fresh__") and r["dag_run_id"] not in seen_before]
        return runs[0] if runs and runs[0]["state"] in ("success", "failed") else None

    run = af.wait("the fresh day run", new_run, timeout)
    if run["state"] != "success":
        raise SystemExit(f"day run {run['dag_run_id']} {run['state']}\n" + af.tail())
    af.wait("an alert delivery", lambda: len(receiver.delivered) > delivered_before, 120)
    fresh_runs = [r for r in af.runs(FRESH) if r["state"] == "success"]
    conf = run.get("conf") or {}
    first_alert = min(r.at for r in receiver.delivered[delivered_before:])
    rel = {
        "trigger fired": _epoch(conf.get("seen_at")),
        "fresh DAG run started": _epoch(fresh_runs[-1]["start_date"]) if fresh_runs else None,
        "day run started": _epoch(run["start_date"]),
        "day run finished": _epoch(run["end_date"]),
        "first alert delivered": first_alert,
    }
    out = {k: (v - t_land if v is not None else None) for k, v in rel.items()}
    out["_run_id"] = run["dag_run_id"]  # type: ignore[assignment]
    out["stage seconds"] = _stage_seconds(Path(af.env["TRENDTRACE_WAREHOUSE"]), run["dag_run_id"])
    return out


def _stage_seconds(warehouse: Path, run_id: str) -> float | None:
    """The run's stages' own time (pipeline_runs.seconds, summed): the rest of a run is Airflow's task overhead."""
    import duckdb

    try:
        con = duckdb.connect(str(warehouse), read_only=True)
    except duckdb.IOException:  # the next run already holds the file
        return None
    try:
        return con.execute("SELECT sum(seconds) FROM pipeline_runs WHERE run_id = ?", [run_id]).fetchone()[0]
    finally:
        con.close()


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--world", type=Path, help="a sample world folder (default: build the small one, 2 days)")
    p.add_argument("--poll", type=float, default=5.0, help="the trigger's poll interval, s (default 5)")
    p.add_argument("--timeout", type=float, default=1200.0, help="failure bound per run, s")
    args = p.parse_args()
    with tempfile.TemporaryDirectory(prefix="fresh-bench-") as tmp_name:
        tmp = Path(tmp_name)
        world = args.world
        if world is None:
            world = tmp / "world"
            t0 = time.monotonic()
            subprocess.run([sys.executable, "-m", "pipelines.cli", "sample-world", "--out", str(world), "--days", "2",
                            "--seed", "11", "--scale", "small"], check=True, cwd=ROOT, capture_output=True)
            print(f"built the small sample world in {time.monotonic() - t0:.0f} s", flush=True)
        days = sorted((world / "landing").glob("dt=*"))[:2]
        landing = tmp / "landing"
        landing.mkdir()
        partition = landing / f"dt={DAY}"
        config = tmp / "alerts.yaml"
        config.write_text(yaml.safe_dump({
            "rules": [{"name": "first_creator", "kind": "cumulative_creators", "levels": [1]}],
            "delivery": {"timeout_s": 10, "attempts_per_run": 3, "backoff_s": 1, "backoff_factor": 2,
                         "max_attempts": 30, "top_cascades": 2, "report": ""},
        }))
        with WebhookReceiver() as receiver, Standalone(tmp / "airflow", {
            "TRENDTRACE_LANDING": str(landing),
            "TRENDTRACE_WAREHOUSE": str(tmp / "warehouse" / "tt.duckdb"),
            "TRENDTRACE_ALERTS_CONFIG": str(config),
            "TRENDTRACE_WEBHOOK_URL": receiver.url,
            "TRENDTRACE_FRESH_POLL_S": str(args.poll),
            # the daily schedule stays out of the way: only fresh runs in this bench
            "TRENDTRACE_START_DATE": "2099-12-31", "TRENDTRACE_END_DATE": "2099-12-31",
        }) as af:
            t0 = time.monotonic()
            af.wait("the landing watcher", lambda: af.watcher_ready() and af.watching(), 600, every=2)
            print(f"airflow standalone up, watcher running after {time.monotonic() - t0:.0f} s", flush=True)
            results = []
            first_exports = [p.name for p in days[0].iterdir() if p.is_file()]
            copy_partition_files(days[0], partition, first_exports)
            t_land = write_marker(partition)
            results.append(("first landing", _measure(af, receiver, t_land, set(), 0, args.timeout)))
            # more files for the same day (the second partition's export and media), marker written again
            copy_partition_files(days[1], partition)
            seen = {results[0][1]["_run_id"]}
            before = len(receiver.delivered)
            t_land = write_marker(partition)
            try:
                results.append(("rerun (more files)", _measure(af, receiver, t_land, seen, before, args.timeout)))
            except TimeoutError:  # the rerun found no new crossing to deliver: report the run without it
                results.append(("rerun (more files)", {"first alert delivered": None}))
    steps = ["trigger fired", "fresh DAG run started", "day run started", "first alert delivered", "day run finished",
             "stage seconds"]
    print(f"\nlanding → … seconds (trigger poll {args.poll:g} s; marker mtime = 0; stage seconds: the run's stages'"
          " own time, summed)")
    print(f"{'':22}" + "".join(f"{s:>23}" for s in steps))
    for name, r in results:
        print(f"{name:22}" + "".join(f"{r[s]:>23.1f}" if r.get(s) is not None else f"{'-':>23}" for s in steps))
    return 0


if __name__ == "__main__":
    sys.exit(main())
