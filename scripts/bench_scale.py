"""Capacity (issue 19, item 6): a stated share of the `large` sample world with media, backfilled day by day by the
embedded runner, measured per stage, per process.

    uv run python scripts/bench_scale.py [--posts 4000] [--days 14] [--work DIR] [--cache DIR]
    make bench-scale          (the same, under nice -n 15; not in CI, not in `make bench`)

The share: the `large` scale re-targeted to --posts posts (pipelines.sample_world.config.get_scale: sounds and
creators scale with it, all five Debian packs stay) over --days days, seed 7, with media; --backfill-days N runs only
its first N days. The whole `large` world (60 000 target posts, 30 days) would take ~2 h to build here from a cold
render cache, and its backfill longer. `make bench-scale` runs 4 000 target posts over 14 days (3 155 posts exported,
213 sounds) and backfills the first 10 days (2 161 posts): measured 2026-12-01, 7 min to build (1 553 of the media
rendered then, the rest cached), 18 min to backfill, under nice -n 15 at load average 4-7. The daily volume
reaches a plateau from day 8 on (~340 posts a day), so days 8 and 10 compare an early and a late day of equal volume.

What is measured (one Python process runs the whole backfill, `pipelines.airflow_runner.run_days` one day at a
time, TRENDTRACE_WORKERS=1, so each task is one process doing one thing at a time; DuckDB keeps its own threads):

- per stage (a task and its plan/shard tasks: fingerprint = fingerprint_plan + fingerprint_shard[*] + fingerprint,
  match = match_plan + match_shard[*] + match_sounds), from Airflow's task instances: wall seconds; CPU seconds
  of the process while the task ran (/proc/self/stat, sampled every 0.2 s, interpolated at the task's start and
  end); the largest RSS sampled while it ran (the process's resident set: it includes what earlier tasks left
  allocated, so it bounds a fresh Celery task process from above); posts per wall second and per CPU second
  over the steady days (from the first day of at least 85 % of the last day's volume: day 1's tasks also pay the
  libraries' first imports);
- the process's peak RSS (getrusage RUSAGE_SELF ru_maxrss) and its children's (RUSAGE_CHILDREN);
- the index (sql/schema/core/match_index.sql): rows per table and per hour of indexed audio; bytes measured by
  copying the index tables into a fresh DuckDB file with their ART indexes and checkpointing after each table
  (the file's growth is the table's bytes on disk: file-size deltas, not duckdb_tables()' estimate, which counts
  rows); and the warehouse file's size after each day (file plus write-ahead log);
- the late day against the early day of about the same volume: seconds and seconds per post per stage, and the
  index each was matched against.

Printed as tables, written to <work>/bench_scale.json. Wall figures depend on the machine's load: the load
average is printed before and after.
"""

from __future__ import annotations

import argparse
import bisect
import json
import os
import resource
import shutil
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SEED = 7
SCALE = "large"
STAGE_OF = {"fingerprint_plan": "fingerprint", "fingerprint_shard": "fingerprint", "match_plan": "match",
            "match_shard": "match", "match_sounds": "match"}
STAGES = ["ingest", "validate", "fingerprint", "match", "link_lineage", "build_cascades", "adoption",
          "check_invariants", "alerts", "publish"]
INDEX_TABLES = ["match_audio", "match_postings", "match_landmark_postings", "match_triplet_postings",
                "match_audio_landmarks"]
STEADY_SHARE = 0.85  # a day is "steady" from the first one with at least this share of the last day's posts
SAMPLE_S = 0.2
CLK_TCK = os.sysconf("SC_CLK_TCK")


def _load() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


# --- the backfill (a child process: its getrusage is the backfill's alone) --------------------------------------

class Sampler(threading.Thread):
    """This process's RSS and CPU seconds (its threads and its waited-for children) every SAMPLE_S seconds."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.samples: list[tuple[float, int, float]] = []  # (epoch s, RSS bytes, CPU s)
        self._halt = threading.Event()

    @staticmethod
    def read() -> tuple[float, int, float]:
        rss = 0
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                rss = int(line.split()[1]) * 1024
        fields = Path("/proc/self/stat").read_text().rsplit(")", 1)[1].split()
        cpu = sum(int(x) for x in fields[11:15]) / CLK_TCK  # utime stime cutime cstime
        return time.time(), rss, cpu

    def run(self) -> None:
        while not self._halt.is_set():
            self.samples.append(self.read())
            self._halt.wait(SAMPLE_S)

    def stop(self) -> None:
        self._halt.set()
        self.join()
        self.samples.append(self.read())

    def window(self, start: float, end: float) -> tuple[int, float]:
        """(largest RSS sampled in [start, end] or the nearest sample, CPU seconds between start and end)."""
        times = [s[0] for s in self.samples]

        def cpu_at(t: float) -> float:
            i = bisect.bisect_left(times, t)
            if i <= 0:
                return self.samples[0][2]
            if i >= len(times):
                return self.samples[-1][2]
            (t0, _, c0), (t1, _, c1) = self.samples[i - 1], self.samples[i]
            return c0 + (c1 - c0) * (t - t0) / (t1 - t0) if t1 > t0 else c1

        lo, hi = bisect.bisect_left(times, start), bisect.bisect_right(times, end)
        inside = [s[1] for s in self.samples[lo:hi]]
        if not inside:
            inside = [self.samples[min(lo, len(self.samples) - 1)][1]]
        return max(inside), max(0.0, cpu_at(end) - cpu_at(start))


def _epoch(value: datetime | None) -> float | None:
    if value is None:
        return None
    return (value if value.tzinfo else value.replace(tzinfo=UTC)).timestamp()


def backfill(work: Path, n_days: int | None) -> None:
    """Run the first `n_days` (all: None) days of the world's landing zone, one `run_days` call per day; write
    <work>/backfill.json."""
    from pipelines.airflow_runner import DAG_ID, configure_environment

    configure_environment(work / "world" / "landing", work / "wh" / "trendtrace.duckdb")
    from airflow.models.dagrun import DagRun

    from pipelines import settings
    from pipelines.airflow_runner import run_days

    warehouse_file = settings.warehouse_path()
    sampler = Sampler()
    sampler.start()
    days_out = []
    for day in settings.landing_days()[:n_days]:
        t0 = time.time()
        [outcome] = run_days([day])
        t1 = time.time()
        if outcome.problem:
            raise SystemExit(f"day {day}: {outcome.problem}")
        tis = []
        for ti in DagRun.fetch_task_instances(dag_id=DAG_ID, run_id=outcome.run_id):
            start, end = _epoch(ti.start_date), _epoch(ti.end_date)
            if start is None or end is None:  # skipped (no shards mapped)
                continue
            tis.append({"task_id": ti.task_id, "map_index": ti.map_index, "start": start, "end": end,
                        "state": str(getattr(ti.state, "value", ti.state))})
        wal = warehouse_file.with_name(warehouse_file.name + ".wal")
        days_out.append({"day": day.isoformat(), "run_id": outcome.run_id, "wall_s": t1 - t0, "start": t0, "end": t1,
                         "tis": tis, "file_bytes": warehouse_file.stat().st_size,
                         "wal_bytes": wal.stat().st_size if wal.exists() else 0})
        print(f"  {day}: {t1 - t0:6.1f} s, warehouse {warehouse_file.stat().st_size / 1e6:.1f} MB", flush=True)
    sampler.stop()
    for d in days_out:
        for ti in d["tis"]:
            ti["rss_max"], ti["cpu_s"] = sampler.window(ti["start"], ti["end"])
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    (work / "backfill.json").write_text(json.dumps({
        "days": days_out, "peak_rss_self": me.ru_maxrss * 1024, "peak_rss_children": kids.ru_maxrss * 1024,
        "cpu_self_s": me.ru_utime + me.ru_stime, "cpu_children_s": kids.ru_utime + kids.ru_stime,
    }, indent=1))


# --- after the backfill: what the warehouse holds -----------------------------------------------------------------

def index_bytes(warehouse_file: Path, scratch: Path) -> dict[str, int]:
    """Bytes on disk of each index table (with its ART index) in a fresh file: the growth after each checkpointed
    copy (sql/bench/scale_index_copy.sql)."""
    import duckdb

    from pipelines import warehouse

    scratch.unlink(missing_ok=True)
    con = duckdb.connect(str(scratch))
    try:
        warehouse.run_sql(con, "schema/core/match_index")
        con.execute("CHECKPOINT")
        sizes: dict[str, int] = {}
        before = scratch.stat().st_size
        statements = con.extract_statements(warehouse.sql_text("bench/scale_index_copy"))
        con.execute(statements[0], {"warehouse": str(warehouse_file)})  # ATTACH
        for table, statement in zip(INDEX_TABLES, statements[1:-1], strict=True):
            con.execute(statement)
            con.execute("CHECKPOINT")
            after = scratch.stat().st_size
            sizes[table] = after - before
            before = after
        con.execute(statements[-1])  # DETACH
        sizes["file"] = scratch.stat().st_size
    finally:
        con.close()
        scratch.unlink(missing_ok=True)
    return sizes


def warehouse_facts(warehouse_file: Path) -> dict:
    from pipelines import warehouse

    con = warehouse.connect(warehouse_file, read_only=True)
    try:
        cols = ["day", "posts", "audio_files", "posted_audio_h", "index_audio_before", "index_h_before",
                "indexed_audio_added"]
        days = [dict(zip(cols, r, strict=True)) for r in warehouse.fetch_rows(con, "bench/scale_days")]
        index = {t: {"rows": int(n), "indexed_h": h} for t, n, h in warehouse.fetch_rows(con, "bench/scale_index_rows")}
        runs = warehouse.fetch_rows(con, "bench/scale_runs")
    finally:
        con.close()
    for d in days:
        d["day"] = d["day"].isoformat()
    runs = [{"run_id": r, "day": d.isoformat(), "task": t, "status": s, "rows_in": i, "rows_out": o, "seconds": sec}
            for r, d, t, s, i, o, sec in runs]
    return {"days": days, "index": index, "pipeline_runs": runs}


# --- the report -----------------------------------------------------------------------------------------------------

def per_day_stage(back: dict) -> dict[str, dict[str, dict]]:
    """{day: {stage: {wall_s, cpu_s, rss_max, tasks}}} from the task instances."""
    out: dict[str, dict[str, dict]] = {}
    for d in back["days"]:
        stages: dict[str, dict] = {}
        for ti in d["tis"]:
            s = stages.setdefault(STAGE_OF.get(ti["task_id"], ti["task_id"]),
                                  {"wall_s": 0.0, "cpu_s": 0.0, "rss_max": 0, "tasks": 0})
            s["wall_s"] += ti["end"] - ti["start"]
            s["cpu_s"] += ti["cpu_s"]
            s["rss_max"] = max(s["rss_max"], ti["rss_max"])
            s["tasks"] += 1
        out[d["day"]] = stages
    return out


def summarise(args: argparse.Namespace, world: dict, back: dict, facts: dict, idx_bytes: dict, load: dict) -> dict:
    volume = {d["day"]: d for d in facts["days"]}
    by_day = per_day_stage(back)
    days = [d["day"] for d in back["days"]]
    last = days[-1]
    steady = [d for d in days if volume.get(d, {}).get("posts", 0) >= STEADY_SHARE * volume[last]["posts"]]
    early = steady[0]
    posts_steady = sum(volume[d]["posts"] for d in steady)
    stages = {}
    for stage in STAGES:
        wall = sum(by_day[d].get(stage, {}).get("wall_s", 0.0) for d in steady)
        cpu = sum(by_day[d].get(stage, {}).get("cpu_s", 0.0) for d in steady)
        stages[stage] = {
            "wall_s_steady": wall, "cpu_s_steady": cpu,
            "posts_per_wall_s": posts_steady / wall if wall else None,
            "posts_per_cpu_s": posts_steady / cpu if cpu else None,
            "posts_per_day_per_process": 86400 * posts_steady / wall if wall else None,  # extrapolated
            "rss_max_mb": max(by_day[d].get(stage, {}).get("rss_max", 0) for d in days) / 1e6,
            "early_s": by_day[early].get(stage, {}).get("wall_s"), "late_s": by_day[last].get(stage, {}).get("wall_s"),
            "early_cpu_s": by_day[early].get(stage, {}).get("cpu_s"),
            "late_cpu_s": by_day[last].get(stage, {}).get("cpu_s"),
        }
        for unit in ("", "cpu_"):
            e, la = stages[stage][f"early_{unit}s"], stages[stage][f"late_{unit}s"]
            if e and la:
                stages[stage][f"late_over_early_{unit}per_post"] = (la / volume[last]["posts"]) / (
                    e / volume[early]["posts"])
    index = facts["index"]
    hours = index["match_audio"]["indexed_h"]
    posted_h = sum(d["posted_audio_h"] for d in facts["days"])
    wh_bytes = back["days"][-1]["file_bytes"] + back["days"][-1]["wal_bytes"]
    return {
        "machine": {"cores": os.cpu_count(), **load},
        "share": {"scale": SCALE, "seed": SEED, "posts_target": args.posts, "days": args.days,
                  "backfilled_days": len(back["days"]),
                  "posts_exported": world["posts_exported"], "media_files": world["media_files"],
                  "sounds": world["sounds"], "build_s": world["timings"]["total"],
                  "media_rendered_now": world["media_rendered_now"]},
        "posts": sum(d["posts"] for d in facts["days"]),
        "posted_audio_h": posted_h,
        "backfill_wall_s": sum(d["wall_s"] for d in back["days"]),
        "steady_days": steady, "early_day": early, "late_day": last,
        "peak_rss_mb": {"process": back["peak_rss_self"] / 1e6, "children": back["peak_rss_children"] / 1e6},
        "stages": stages,
        "index": {"indexed_audio_h": hours,
                  "tables": {t: {"rows": v["rows"], "bytes": idx_bytes.get(t),
                                 "rows_per_h": v["rows"] / hours if hours else None,
                                 "bytes_per_h": idx_bytes.get(t, 0) / hours if hours else None}
                             for t, v in index.items()},
                  "bytes_total": sum(idx_bytes[t] for t in INDEX_TABLES),
                  "bytes_per_h": sum(idx_bytes[t] for t in INDEX_TABLES) / hours if hours else None,
                  "method": "file-size growth of a fresh DuckDB file after each index table is copied in "
                            "(with its ART index) and checkpointed"},
        "warehouse": {"bytes": wh_bytes, "bytes_per_posted_audio_h": wh_bytes / posted_h if posted_h else None,
                      "bytes_per_post": wh_bytes / max(1, sum(d["posts"] for d in facts["days"])),
                      "by_day": [{"day": d["day"], "bytes": d["file_bytes"] + d["wal_bytes"]} for d in back["days"]]},
        "days": [{**volume.get(d["day"], {"day": d["day"]}), "wall_s": d["wall_s"],
                  "stages_s": {s: round(v["wall_s"], 2) for s, v in by_day[d["day"]].items()},
                  "stages_cpu_s": {s: round(v["cpu_s"], 2) for s, v in by_day[d["day"]].items()}}
                 for d in back["days"]],
    }


def _fmt(v: float | None, spec: str) -> str:
    return "-" if v is None else format(v, spec)


def report(r: dict) -> None:
    sh = r["share"]
    print(f"\nshare: scale {sh['scale']} at {sh['posts_target']:,} target posts over {sh['days']} days (seed "
          f"{sh['seed']}; the world: {sh['posts_exported']:,} posts exported, {sh['media_files']:,} media files, "
          f"{sh['sounds']} sounds), its first {sh['backfilled_days']} days backfilled: {r['posts']:,} posts, "
          f"{r['posted_audio_h']:.1f} h of posted audio, in {r['backfill_wall_s']:.0f} s")
    print(f"steady days {r['steady_days'][0]} .. {r['steady_days'][-1]} ({len(r['steady_days'])} days); "
          f"early {r['early_day']} vs late {r['late_day']}")
    print(f"\n{'stage':<17}{'posts/s':>9}{'posts/CPU-s':>12}{'posts/day/proc':>16}{'RSS MB':>8}"
          f"{'early s':>9}{'late s':>8}{'per post':>9}{'early CPU':>10}{'late CPU':>9}{'per post':>9}")
    for stage, s in r["stages"].items():
        print(f"{stage:<17}{_fmt(s['posts_per_wall_s'], '9.1f')}{_fmt(s['posts_per_cpu_s'], '12.1f')}"
              f"{_fmt(s['posts_per_day_per_process'], '16,.0f')}{s['rss_max_mb']:8.0f}{_fmt(s['early_s'], '9.1f')}"
              f"{_fmt(s['late_s'], '8.1f')}{_fmt(s.get('late_over_early_per_post'), '9.2f')}"
              f"{_fmt(s['early_cpu_s'], '10.1f')}{_fmt(s['late_cpu_s'], '9.1f')}"
              f"{_fmt(s.get('late_over_early_cpu_per_post'), '9.2f')}")
    print("(posts/s, posts/CPU-s: over the steady days; posts/day/proc = posts/s x 86 400, an extrapolation; "
          "per post: late day's seconds per post / early day's)")
    print(f"\npeak RSS: the backfill process {r['peak_rss_mb']['process']:.0f} MB, its children "
          f"{r['peak_rss_mb']['children']:.0f} MB")
    ix = r["index"]
    print(f"\nindex: {ix['indexed_audio_h']:.2f} h of indexed audio, {ix['bytes_total'] / 1e6:.1f} MB "
          f"({_fmt(ix['bytes_per_h'] and ix['bytes_per_h'] / 1e6, '.2f')} MB per hour; {ix['method']})")
    print(f"{'table':<26}{'rows':>12}{'rows/h':>12}{'MB':>9}{'MB/h':>9}")
    for t, v in ix["tables"].items():
        print(f"{t:<26}{v['rows']:>12,}{_fmt(v['rows_per_h'], '12,.0f')}{_fmt(v['bytes'] and v['bytes'] / 1e6, '9.2f')}"
              f"{_fmt(v['bytes_per_h'] and v['bytes_per_h'] / 1e6, '9.2f')}")
    wh = r["warehouse"]
    print(f"\nwarehouse file: {wh['bytes'] / 1e6:.1f} MB, {wh['bytes_per_posted_audio_h'] / 1e6:.2f} MB per hour of "
          f"posted audio, {wh['bytes_per_post'] / 1e3:.1f} kB per post")
    print(f"\n{'day':<12}{'posts':>7}{'index before':>13}{'index h':>8}{'wall s':>8}{'fp CPU ms/post':>15}"
          f"{'match CPU ms/post':>18}  stages (wall s)")
    for d in r["days"]:
        stages = " ".join(f"{k}={v:.1f}" for k, v in d["stages_s"].items() if STAGE_OF.get(k, k) == k)
        n = max(1, d.get("posts", 0))
        cpu = d.get("stages_cpu_s", {})
        print(f"{d['day']:<12}{d.get('posts', 0):>7}{d.get('index_audio_before', 0):>13}"
              f"{d.get('index_h_before', 0):8.2f}{d['wall_s']:8.1f}{1000 * cpu.get('fingerprint', 0) / n:15.0f}"
              f"{1000 * cpu.get('match', 0) / n:18.0f}  {stages}")
    print(f"\nload average before {r['machine']['load_before']}, after {r['machine']['load_after']} on "
          f"{r['machine']['cores']} cores; {r['date']}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--posts", type=int, default=4000, help="target posts of the large scale's share (default 4000)")
    ap.add_argument("--days", type=int, default=14, help="days of posting (default 14)")
    ap.add_argument("--backfill-days", type=int, default=None,
                    help="backfill only the world's first N days (default: all of them)")
    ap.add_argument("--work", type=Path, default=Path(os.environ.get("TMPDIR", "/tmp")) / "trendtrace-bench-scale",
                    help="work folder: world, warehouse, Airflow home, bench_scale.json")
    ap.add_argument("--cache", type=Path, default=None, help="render cache (default $TRENDTRACE_CACHE or data/cache)")
    ap.add_argument("--report", action="store_true",
                    help="summarise an earlier run in --work again (its backfill.json and warehouse), nothing rerun")
    ap.add_argument("--backfill", action="store_true", help=argparse.SUPPRESS)  # the child process
    args = ap.parse_args()
    work = args.work.resolve()
    if args.backfill:
        backfill(work, args.backfill_days)
        return

    if args.report:
        prev = json.loads((work / "bench_scale.json").read_text())
        sh = prev["share"]
        world = {"posts_exported": sh["posts_exported"], "media_files": sh["media_files"], "sounds": sh["sounds"],
                 "timings": {"total": sh["build_s"]}, "media_rendered_now": sh["media_rendered_now"]}
        summarise_and_write(args, work, world, {k: prev["machine"][k] for k in ("load_before", "load_after")},
                            prev["date"], prev["command"])
        return

    from pipelines.sample_world import build_world

    load_before = _load()
    print(f"bench_scale: load average {load_before} on {os.cpu_count()} cores; work {work}", flush=True)
    for sub in ("wh", "airflow", "scratch"):
        shutil.rmtree(work / sub, ignore_errors=True)
    work.mkdir(parents=True, exist_ok=True)
    print(f"building the share: scale {SCALE}, {args.posts} target posts, {args.days} days, with media", flush=True)
    world = build_world(out=work / "world", days=args.days, seed=SEED, scale=SCALE, posts=args.posts,
                        cache_dir=args.cache, progress=False)
    print(f"  built in {world['timings']['total']:.0f} s ({world['media_rendered_now']} media rendered now)",
          flush=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "TRENDTRACE_"))}
    env |= {"AIRFLOW_HOME": str(work / "airflow"), "TRENDTRACE_WORK_DIR": str(work / "scratch"),
            "TRENDTRACE_WORKERS": "1", "TRENDTRACE_PROGRESS": "0"}
    print("backfilling with the embedded runner (one process, one day at a time)", flush=True)
    cmd = [sys.executable, str(Path(__file__).resolve()), "--backfill", "--work", str(work)]
    if args.backfill_days:
        cmd += ["--backfill-days", str(args.backfill_days)]
    child = subprocess.run(cmd, env=env, cwd=ROOT, check=False)
    if child.returncode != 0:
        raise SystemExit(f"the backfill failed (exit {child.returncode})")
    summarise_and_write(args, work, world, {"load_before": load_before, "load_after": _load()},
                        datetime.now(UTC).isoformat(timespec="seconds"),
                        " ".join(["scripts/bench_scale.py", *sys.argv[1:]]))


def summarise_and_write(args: argparse.Namespace, work: Path, world: dict, load: dict, when: str, command: str) -> None:
    """Read the backfill's measurements and the warehouse, print the tables, write <work>/bench_scale.json."""
    back = json.loads((work / "backfill.json").read_text())
    warehouse_file = work / "wh" / "trendtrace.duckdb"
    facts = warehouse_facts(warehouse_file)
    idx_bytes = index_bytes(warehouse_file, work / "index-only.duckdb")
    result = summarise(args, world, back, facts, idx_bytes, load)
    result |= {"date": when, "command": command, "pipeline_runs": facts["pipeline_runs"]}
    (work / "bench_scale.json").write_text(json.dumps(result, indent=1, default=str))
    report(result)
    print(f"\nwritten: {work / 'bench_scale.json'}")


if __name__ == "__main__":
    main()
