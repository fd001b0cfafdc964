"""Benchmark: lineage + cascade metrics on synthetic forests (default 1M posts over 30 days).

1. Incremental: the posts arrive day by day at equal daily volume; each day runs link_lineage's edges and
   paths, build_cascades and adoption on what the day's posts change, as the DAG does. Prints day-1 and
   day-30 times and their ratio: lineage work must grow with the new posts, not with history.
2. Full build: lineage_paths + cascades for every post from the same edges, in DuckDB versus networkx
   (the same outputs: path lists, depth, size, creators, max breadth, relation counts, structural virality
   from subtree sizes), times and ratio, and a check that both agree.

Usage: uv run python scripts/bench_lineage.py [--posts 1000000] [--days 30] [--warehouse FILE]
networkx (a dev dependency) is the baseline; `make bench` runs this script.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections import Counter
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import polars as pl

from pipelines import warehouse
from pipelines.lineage import build_scope, drop_scope
from pipelines.lineage.cascades import refresh_cascades
from pipelines.lineage.edges import link_edges
from pipelines.lineage.metrics import structural_virality
from pipelines.lineage.paths import refresh_paths
from pipelines.sound_daily import refresh_sound_daily

START = date(2024, 3, 1)


def synthetic_forest(n_posts: int, days: int, seed: int = 1) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(posts, post_sounds): heavy-tailed trees (Zipf sizes), parents biased to the root and early posts.

    Children of the root reuse its platform music (linked by music id); deeper posts are duets carrying an
    explicit duetFromId, so link_lineage rebuilds exactly this forest from the metadata and the audio.
    """
    rng = np.random.default_rng(seed)
    sizes = np.minimum(rng.zipf(1.9, size=n_posts), 20_000)
    sizes = sizes[np.cumsum(sizes) <= n_posts]
    sizes = np.append(sizes, n_posts - sizes.sum()) if sizes.sum() < n_posts else sizes
    tree = np.repeat(np.arange(sizes.size), sizes)
    offset = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    local = np.arange(n_posts) - offset[tree]
    u = rng.random(n_posts)
    to_root = rng.random(n_posts) < 0.6
    parent_local = np.where(to_root, 0, np.floor(local * u**1.5)).astype(np.int64)
    parent = np.where(local > 0, offset[tree] + parent_local, -1)
    # a tree lives ~1 day (log-normal) from a uniform start
    t0 = rng.uniform(0, days - 0.2, sizes.size)
    life = np.minimum(rng.lognormal(0.0, 0.8, sizes.size), days - t0 - 1e-3)
    t = t0[tree] + life[tree] * (local / np.maximum(sizes[tree], 1))
    order = np.lexsort((local, t))  # time order; a parent (smaller local index) never comes later
    rank = np.empty(n_posts, dtype=np.int64)
    rank[order] = np.arange(n_posts)
    # equal daily volume: the k-th post in time order is placed at k/n of the period (order kept, ties none)
    created = np.datetime64(START.isoformat(), "us") + (
        rank * (days * 86_400_000_000 // n_posts)
    ).astype("timedelta64[us]")
    # ids shaped like TikTok's: 19 digits growing with time (so DuckDB's zone maps can skip old row groups)
    ids = (np.uint64(7_300_000_000_000_000_000) + rank.astype(np.uint64) * np.uint64(4096)).astype(str)
    authors = rng.integers(0, max(1000, n_posts // 3), n_posts)
    posts = pl.DataFrame({
        "post_id": ids, "author": np.char.add("user", authors.astype(str)), "created_at": created,
        "platform_music_id": np.char.add("m", tree.astype(str)),
        "duet_from_post_id": np.where((local > 0) & (parent_local > 0), ids[np.maximum(parent, 0)], ""),
    }).with_columns(
        pl.when(pl.col("duet_from_post_id") != "").then(pl.col("duet_from_post_id")).alias("duet_from_post_id"),
        pl.col("created_at").cast(pl.Date).alias("created_day"),
    ).with_columns(pl.col("created_day").alias("ingest_day"))
    post_sounds = pl.DataFrame({"post_id": ids, "sound_id": np.char.add("s", tree.astype(str))})
    return posts.sort("created_at"), post_sounds


def load_day(con, posts: pl.DataFrame, sounds: pl.DataFrame, day: date) -> int:
    todays = posts.filter(pl.col("ingest_day") == day)
    con.register("bench_posts", todays)
    con.register("bench_sounds", sounds.join(todays.select("post_id", "ingest_day"), on="post_id"))
    con.execute("""
        INSERT INTO validated_posts (post_id, author, created_at, created_day, platform_music_id, music_title, music_original,
                           duet_from_post_id, source_format, source_file, source_record, ingest_day)
        SELECT post_id, author, created_at, created_day, platform_music_id, 'original sound', TRUE,
               duet_from_post_id, 'csv_export', 'bench.csv', 0, ingest_day FROM bench_posts;
        INSERT INTO post_sounds (post_id, sound_id, role, post_start_s, post_end_s, sound_start_s, sound_end_s,
                                 speed, score, method, matched_sound_id, ingest_day)
        SELECT post_id, sound_id, 'primary', 0, 10, 0, 10, 1, 1, 'chromaprint', sound_id, ingest_day FROM bench_sounds;
    """)  # noqa: E501
    con.unregister("bench_posts")
    con.unregister("bench_sounds")
    return todays.height


def incremental(con, posts, sounds, days: int) -> list[tuple[date, int, float, float, float]]:
    """Per day: (day, posts, lineage+cascades compute s, their commit s, adoption s incl. commit)."""
    out = []
    for k in range(days):
        day = START + timedelta(days=k)
        n = load_day(con, posts, sounds, day)
        con.execute("CHECKPOINT")  # loading is not part of the measure
        t0 = time.perf_counter()
        con.execute("BEGIN TRANSACTION")
        build_scope(con, day)
        link_edges(con, day, day)
        refresh_paths(con)
        refresh_cascades(con)
        drop_scope(con)
        t1 = time.perf_counter()
        con.execute("COMMIT")
        t2 = time.perf_counter()
        with warehouse.transaction(con):
            build_scope(con, day)
            refresh_sound_daily(con, day)
            drop_scope(con)
        t3 = time.perf_counter()
        out.append((day, n, t1 - t0, t2 - t1, t3 - t2))
        print(f"  {day}  {n:>8,} posts  lineage+cascades {t1 - t0:6.2f} s + commit {t2 - t1:5.2f} s  "
              f"adoption {t3 - t2:6.2f} s", flush=True)
    return out


def duckdb_full(con, first: date, last: date) -> float:
    con.execute("DELETE FROM lineage_paths; DELETE FROM cascades")
    t0 = time.perf_counter()
    with warehouse.transaction(con):
        build_scope(con, last, first)
        refresh_paths(con)
        refresh_cascades(con)
        drop_scope(con)
    return time.perf_counter() - t0


def networkx_full(edges: pl.DataFrame, nodes: pl.DataFrame) -> tuple[float, dict[str, dict]]:
    """The same per-tree metrics with networkx traversals (paths, BFS levels, subtree sizes)."""
    import networkx as nx

    t0 = time.perf_counter()
    g = nx.DiGraph()
    g.add_nodes_from(nodes["post_id"].to_list())
    g.add_edges_from(zip(edges["parent_post_id"].to_list(), edges["child_post_id"].to_list(), strict=False))
    author = dict(zip(nodes["post_id"].to_list(), nodes["author"].to_list(), strict=False))
    created = dict(zip(nodes["post_id"].to_list(), nodes["created_at"].to_list(), strict=False))
    relation = dict(zip(edges["child_post_id"].to_list(), edges["relation"].to_list(), strict=False))
    out = {}
    for root in (v for v, d in g.in_degree() if d == 0):
        paths = nx.single_source_shortest_path(g, root)
        depth = {v: len(p) - 1 for v, p in paths.items()}
        size = {}
        for v in nx.dfs_postorder_nodes(g, root):
            size[v] = 1 + sum(size[c] for c in g.successors(v))
        n = len(paths)
        w = sum(s * (n - s) for v, s in size.items() if v != root)
        rel = Counter(relation[v] for v in paths if v != root)
        out[root] = {
            "size": n, "creators": len({author[v] for v in paths}), "depth": max(depth.values()),
            "max_breadth": max(Counter(depth.values()).values()),
            "structural_virality": float(structural_virality(np.array([w], dtype=float), np.array([n]))[0]),
            "first_seen": min(created[v] for v in paths), "last_seen": max(created[v] for v in paths),
            "n_duets": rel["duet"], "n_reuses": rel["sound_reuse"],
        }
    return time.perf_counter() - t0, out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--posts", type=int, default=1_000_000)
    ap.add_argument("--days", type=int, default=30)
    ap.add_argument("--warehouse", type=Path, default=None)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    path = args.warehouse or Path(tempfile.mkdtemp(prefix="bench-lineage-")) / "bench.duckdb"
    if path.exists():
        path.unlink()

    t0 = time.perf_counter()
    posts, sounds = synthetic_forest(args.posts, args.days, args.seed)
    print(f"synthetic forest: {posts.height:,} posts in {time.perf_counter() - t0:.1f} s; warehouse {path}")
    con = warehouse.connect(path)
    print(f"1. incremental, {args.days} days at ~{posts.height // args.days:,} posts a day")
    runs = incremental(con, posts, sounds, args.days)
    n_edges = con.execute("SELECT count(*) FROM lineage_edges").fetchall()[0][0]
    expected = posts.filter(pl.col("duet_from_post_id").is_not_null()).height
    print(f"   edges: {n_edges:,} (explicit duets expected: {expected:,})")
    med = lambda rs, i: float(np.median([r[i] for r in rs]))  # noqa: E731  (medians: a shared machine is noisy)
    first, early, late = runs[:1], runs[2:5] or runs[:1], runs[-3:]
    for label, i in (
        ("lineage+cascades compute", 2), ("lineage+cascades commit", 3), ("adoption (a row per sound and day)", 4)
    ):
        print(f"   {label}: day 1 {med(first, i):.2f} s, days 3-5 {med(early, i):.2f} s, "
              f"last 3 days {med(late, i):.2f} s "
              f"-> day {args.days} / day 1 = {med(late, i) / med(first, i):.2f}, / days 3-5 = "
              f"{med(late, i) / med(early, i):.2f}")

    print("2. full build of paths + cascades from the same edges")
    last = START + timedelta(days=args.days - 1)
    t_duck = duckdb_full(con, START, last)
    print(f"   DuckDB   {t_duck:7.2f} s")
    ours = {r[0]: r for r in con.execute(
        "SELECT root_post_id, size, creators, depth, max_breadth, structural_virality FROM cascades").fetchall()}
    edges = con.sql("SELECT child_post_id, parent_post_id, relation FROM lineage_edges").pl()
    nodes = con.sql("SELECT post_id, author, created_at FROM posts").pl()
    con.close()
    try:
        t_nx, theirs = networkx_full(edges, nodes)
    except ImportError:
        print("   networkx not installed: run `uv run --with networkx python scripts/bench_lineage.py` "
              "for the baseline")
        return
    print(f"   networkx {t_nx:7.2f} s   -> networkx / DuckDB = {t_nx / t_duck:.1f}x")
    bad = [r for r, m in theirs.items()
           if r not in ours or ours[r][1:5] != (m["size"], m["creators"], m["depth"], m["max_breadth"])
           or not np.isclose(ours[r][5] if ours[r][5] is not None else np.nan, m["structural_virality"],
                             equal_nan=True)]
    print(f"   agreement: {len(theirs) - len(bad):,} of {len(theirs):,} trees identical"
          + (f"; first differing: {bad[:3]}" if bad else ""))


if __name__ == "__main__":
    main()
