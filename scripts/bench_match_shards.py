"""A day's match stage spread over 1 and over 2 workers (issue 19): match_plan, the mapped first-pass shards in
W worker processes at once, then the writer (`match_sounds.run_load`), as the DAG runs them.

    uv run python scripts/bench_match_shards.py [--posts 300] [--sounds 10000] [--files-per-shard 64]

The prepared warehouse is scripts/bench_match_day.py's (an index of S sounds: the render cache's real music padded
with synthetic sounds; a day of N posts of the sample worlds' renders and ffmpeg variants of them), cached in
--work. Each layout runs on a fresh copy of it, alternating ROUNDS times so both see the same load; the shards of
a run are dealt round-robin to W processes started together (each a fresh Python process, as a Celery worker
runs a task). Printed: wall seconds of plan, shards and writer, the shards' summed process seconds, the ratio of
the match stage's wall time with 1 vs 2 workers, and whether the day's post_sounds are identical across every run
(they must be: the shards' outputs do not depend on where or in which order they ran).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
sys.path.insert(0, str(ROOT))

import bench_match_day as bmd  # noqa: E402  (the prepared day and index are that bench's)


def _env(wh: Path, work: Path, files_per_shard: int) -> dict[str, str]:
    return dict(os.environ, TRENDTRACE_WAREHOUSE=str(wh), TRENDTRACE_LANDING=str(work / "landing"),
                TRENDTRACE_WORK_DIR=str(work / "scratch"), TRENDTRACE_MATCH_FILES_PER_SHARD=str(files_per_shard),
                TRENDTRACE_PROGRESS="0")


def _call(args: list[str], env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, str(Path(__file__).resolve()), *args], env=env, cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _result(proc: subprocess.Popen) -> dict:
    out, err = proc.communicate()
    if proc.returncode != 0:
        raise SystemExit(f"bench step failed:\n{err[-3000:]}")
    return json.loads(out.strip().splitlines()[-1])


def one_run(prep: Path, work: Path, workers: int, files_per_shard: int) -> dict:
    """Plan, the shards over `workers` processes, the writer; on a fresh copy of the prepared warehouse."""
    wh = work / "run.duckdb"
    shutil.copy(prep, wh)
    shutil.rmtree(work / "scratch", ignore_errors=True)
    env = _env(wh, work, files_per_shard)
    t0 = time.perf_counter()
    shards = _result(_call(["--step", "plan"], env))["shards"]
    t1 = time.perf_counter()
    procs = [_call(["--step", "shards", json.dumps(shards[w::workers])], env) for w in range(workers)]
    shard_cpu = sum(_result(p)["cpu_s"] for p in procs)
    t2 = time.perf_counter()
    writer = _result(_call(["--step", "writer", json.dumps(shards)], env))
    t3 = time.perf_counter()
    wh.unlink()
    return {"workers": workers, "shards": len(shards), "plan_s": t1 - t0, "shards_s": t2 - t1, "shard_cpu_s": shard_cpu,
            "writer_s": t3 - t2, "total_s": t3 - t0, "load": os.getloadavg()[0], **writer}


def step(name: str, arg: str | None) -> dict:
    """One step in this process (the bench's child processes)."""
    from pipelines import warehouse
    from pipelines.stages import match_shards, match_sounds

    day = bmd.DAY2
    if name == "plan":
        return {"shards": match_shards.plan_day(day)}
    if name == "shards":
        t = time.process_time()
        for shard in json.loads(arg or "[]"):
            match_shards.run_shard(shard)
        return {"cpu_s": time.process_time() - t}
    result = match_sounds.run_load(day, "bench", json.loads(arg or "[]"))
    con = warehouse.connect(read_only=True)
    digest = con.execute("SELECT count(*), sum(hash(post_id || sound_id || role || method || round(post_start_s, 3) "
                         "|| round(post_end_s, 3))) FROM post_sounds WHERE ingest_day = ?", [day]).fetchone()
    posts = con.execute("SELECT count(*) FROM posts WHERE ingest_day = ?", [day]).fetchone()
    con.close()
    return {"message": result.message, "post_sounds": [int(digest[0]), str(digest[1])], "posts": int(posts[0])}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--posts", type=int, default=300)
    ap.add_argument("--sounds", type=int, default=10000)
    ap.add_argument("--seed", type=int, default=17)
    ap.add_argument("--files-per-shard", type=int, default=64)
    ap.add_argument("--rounds", type=int, default=1)
    ap.add_argument("--work", type=Path, default=Path("/tmp/bench-match-shards"))
    ap.add_argument("--step", choices=["plan", "shards", "writer"], default=None, help=argparse.SUPPRESS)
    ap.add_argument("arg", nargs="?", default=None, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.step:
        print(json.dumps(step(args.step, args.arg), default=str))
        return
    args.work.mkdir(parents=True, exist_ok=True)
    prep = bmd.prepare(args.work, args.posts, args.sounds, args.seed)
    bmd.landing(args.work)
    runs: dict[int, list[dict]] = {1: [], 2: []}
    for r in range(args.rounds):
        for workers in (1, 2):
            print(f"round {r + 1}/{args.rounds}: {workers} worker(s)...", flush=True)
            runs[workers].append(one_run(prep, args.work, workers, args.files_per_shard))
    print(f"\n== match stage of one day ({runs[1][0]['posts']} posts) against {args.sounds} indexed sounds, "
          f"{runs[1][0]['shards']} shards of ~{args.files_per_shard} files")
    print(f"   {'workers':>7s} {'plan s':>7s} {'shards s':>8s} {'shard cpu s':>11s} {'writer s':>8s} {'total s':>8s} "
          f"{'load':>5s}")
    for workers in (1, 2):
        for run in runs[workers]:
            print(f"   {workers:7d} {run['plan_s']:7.1f} {run['shards_s']:8.1f} {run['shard_cpu_s']:11.1f} "
                  f"{run['writer_s']:8.1f} {run['total_s']:8.1f} {run['load']:5.1f}")
    best = {w: min(r["total_s"] for r in runs[w]) for w in (1, 2)}
    shards = {w: min(r["shards_s"] for r in runs[w]) for w in (1, 2)}
    same = {json.dumps(r["post_sounds"]) for w in (1, 2) for r in runs[w]}
    print(f"\n   match stage, 1 worker / 2 workers: {best[1] / best[2]:.2f}x (best runs; shards alone "
          f"{shards[1] / shards[2]:.2f}x); post_sounds of the day {'identical' if len(same) == 1 else 'DIFFER'} "
          f"across runs; {os.cpu_count()} cores")
    print(f"   {runs[1][0]['message']}")


if __name__ == "__main__":
    main()
