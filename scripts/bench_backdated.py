"""Benchmark: a collection of old posts (issue 16, "Collections of any age").

A synthetic forest (scripts/bench_lineage.py: Zipf-sized trees, music-id reuses and explicit duets) of
--posts posts over --days days; --late of them (default 10,000) are picked at random across those days.
Two warehouses, the same posts, the same stage code (link_lineage's edges + paths, build_cascades, adoption,
alert crossings with config/alerts.yaml), run per partition as the DAG runs them:

  own days    every post arrives in the partition of the day it was created (--days runs);
  collection  the --late posts are held back and arrive together in one partition after the last day (a
              sound's page or a 3-month search collected that day): --days runs without them, then one run.

Printed, all measured in this run: the collection day's time, the total and the median of the own-days runs,
the ratio of the collection day to an ordinary day and to the own-days total, and a check that both
warehouses end with the same edges and the same cascades. Loading rows is not timed.

Usage: uv run python scripts/bench_backdated.py [--posts 200000] [--late 10000] [--days 90]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np
import polars as pl

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_lineage import START, load_day, synthetic_forest

from pipelines import warehouse
from pipelines.alerts import crossings, rules
from pipelines.lineage import build_scope, drop_scope
from pipelines.lineage.cascades import refresh_cascades
from pipelines.lineage.edges import link_edges
from pipelines.lineage.paths import refresh_paths
from pipelines.sound_daily import refresh_sound_daily

STEPS = ("link_lineage", "build_cascades", "adoption", "alerts")


def run_partition(con, day: date, alert_rules) -> dict[str, float]:
    """The four stages' work for partition `day`, each in its own transaction as in the DAG; seconds per step."""
    out = {}
    t = time.perf_counter()
    with warehouse.transaction(con):
        build_scope(con, day)
        link_edges(con, day, day)
        refresh_paths(con)
        drop_scope(con)
    out["link_lineage"] = time.perf_counter() - t
    t = time.perf_counter()
    with warehouse.transaction(con):
        build_scope(con, day)
        refresh_cascades(con)
        drop_scope(con)
    out["build_cascades"] = time.perf_counter() - t
    t = time.perf_counter()
    with warehouse.transaction(con):
        build_scope(con, day)
        refresh_sound_daily(con, day)
        drop_scope(con)
    out["adoption"] = time.perf_counter() - t
    t = time.perf_counter()
    with warehouse.transaction(con):
        crossings.record_crossings(con, alert_rules, day, "bench", datetime.now(UTC).replace(tzinfo=None))
    out["alerts"] = time.perf_counter() - t
    return out


def replay(path: Path, posts: pl.DataFrame, sounds: pl.DataFrame, days: list[date], alert_rules) -> list[dict]:
    con = warehouse.connect(path)
    try:
        runs = []
        for day in days:
            load_day(con, posts, sounds, day)
            con.execute("CHECKPOINT")  # loading is not part of the measure
            runs.append(run_partition(con, day, alert_rules))
        return runs
    finally:
        con.close()


def final_state(path: Path) -> tuple[set, set]:
    con = warehouse.connect(path, read_only=True)
    try:
        edges = set(con.execute("SELECT child_post_id, parent_post_id, relation FROM lineage_edges").fetchall())
        trees = set(con.execute("SELECT root_post_id, size, creators, depth, max_breadth FROM cascades").fetchall())
        return edges, trees
    finally:
        con.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--posts", type=int, default=200_000)
    ap.add_argument("--late", type=int, default=10_000)
    ap.add_argument("--days", type=int, default=90)
    ap.add_argument("--seed", type=int, default=3)
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-backdated-"))
    alert_rules = rules.load(rules.DEFAULT_CONFIG).rules

    posts, sounds = synthetic_forest(args.posts, args.days, args.seed)
    rng = np.random.default_rng(args.seed)
    late = np.zeros(posts.height, dtype=bool)
    late[rng.choice(posts.height, size=min(args.late, posts.height), replace=False)] = True
    days = [START + timedelta(days=k) for k in range(args.days)]
    collected = START + timedelta(days=args.days)
    held = posts.with_columns(
        pl.when(pl.Series(late)).then(pl.lit(collected)).otherwise(pl.col("ingest_day")).alias("ingest_day")
    )
    ages = (collected - held.filter(pl.Series(late))["created_day"]).dt.total_days()
    print(f"{posts.height:,} posts over {args.days} days; {int(late.sum()):,} of them collected on {collected}, "
          f"{ages.min()}-{ages.max()} days after they were posted (median {ages.median():.0f})")

    print("own days: every post in the partition of its day", flush=True)
    own = replay(work / "own.duckdb", posts, sounds, days, alert_rules)
    print("collection: the same days without the late posts, then one partition holding them", flush=True)
    base = replay(work / "collection.duckdb", held, sounds, [*days, collected], alert_rules)
    collect = base[-1]
    base = base[:-1]

    def total(rs: list[dict]) -> float:
        return sum(sum(r.values()) for r in rs)

    t_collect, t_own, t_base = sum(collect.values()), total(own), total(base)
    day_median = float(np.median([sum(r.values()) for r in own]))
    for step in STEPS:
        own_step = sum(r[step] for r in own)
        print(f"   {step:15} collection day {collect[step]:6.2f} s | own days: total {own_step:7.2f} s, "
              f"median day {float(np.median([r[step] for r in own])):5.2f} s")
    print(f"   all steps      collection day {t_collect:6.2f} s | own days: total {t_own:7.2f} s, "
          f"median day {day_median:5.2f} s | the {args.days} days without the late posts: {t_base:7.2f} s")
    print(f"-> collection day / median own day = {t_collect / day_median:.2f}")
    print(f"-> collection day / all {args.days} own days = {t_collect / t_own:.3f}")
    if t_own > t_base:
        print(f"-> collection day / what the late posts added to the {args.days} own days "
              f"({t_own - t_base:.2f} s) = {t_collect / (t_own - t_base):.2f}")
    same = final_state(work / "own.duckdb") == final_state(work / "collection.duckdb")
    print(f"   same edges and cascades either way: {same}")


if __name__ == "__main__":
    main()
