"""Benchmark: how fast the sample world builds (the timings the test suite used to assert on, moved here).

1. Metadata-only world of ~1M posts over 30 days (scale xl) against a baseline measured in the same run: the
   same generator at a tenth of the size. Prints both times, posts per second and the ratio
   t(1M) / (10 x t(1/10)): ~1 means the generator scales linearly; well above 1 means something grew
   faster than the posts.
2. The small world with media (what the test suite builds once per run) from a cold render cache (a fresh
   temporary cache: fetches the Debian music packs and renders everything) against a rebuild on the now warm
   cache (links files only). Prints both times and their ratio. `--skip-media` leaves it out.

Figures are wall-clock on whatever load the machine has, which is why each one comes with a baseline from the
same run; `uptime`'s load averages are printed before and after.

Usage: uv run python scripts/bench_world.py [--posts N] [--days 30] [--skip-media]
`make bench` runs this script.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

from pipelines.sample_world import build_world
from pipelines.sample_world.config import get_scale

SEED = 7


def _load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f} {five:.2f} {fifteen:.2f} on {os.cpu_count()} cores"


def _timed(**kwargs) -> tuple[float, dict]:
    t0 = time.perf_counter()
    summary = build_world(progress=False, **kwargs)
    return time.perf_counter() - t0, summary


def bench_metadata(posts: int | None, days: int, tmp: Path) -> None:
    target = posts or get_scale("xl").target_posts
    print(f"1. metadata-only world: scale xl ({target:,} target posts) over {days} days vs {target // 10:,} "
          "(baseline, same run)")
    _timed(out=tmp / "warm-up", days=days, seed=SEED, scale="xl", no_media=True, posts=2000)  # imports, first calls
    t_small, s_small = _timed(out=tmp / "meta-small", days=days, seed=SEED, scale="xl", no_media=True,
                              posts=target // 10)
    t_big, s_big = _timed(out=tmp / "meta-big", days=days, seed=SEED, scale="xl", no_media=True, posts=posts)
    n_small, n_big = s_small["posts_generated"], s_big["posts_generated"]
    ratio = (t_big / n_big) / (t_small / n_small)
    print(f"   baseline {n_small:>9,} posts  {t_small:7.1f} s  {n_small / t_small:>9,.0f} posts/s")
    print(f"   target   {n_big:>9,} posts  {t_big:7.1f} s  {n_big / t_big:>9,.0f} posts/s")
    print(f"   time per post, target / baseline: {ratio:.2f}  (1.00 = linear)")
    stages = ", ".join(f"{k} {v} s" for k, v in s_big["timings"].items() if k != "media_cpu_s")
    print(f"   target stages: {stages}")


def bench_media(days: int, tmp: Path) -> None:
    print(f"2. small world with media ({days} days, seed {SEED}): cold render cache vs warm (baseline, same run)")
    cache = tmp / "cache"
    t_cold, s_cold = _timed(out=tmp / "small-cold", days=days, seed=SEED, scale="small", cache_dir=cache)
    t_warm, s_warm = _timed(out=tmp / "small-warm", days=days, seed=SEED, scale="small", cache_dir=cache)
    print(f"   cold {t_cold:7.1f} s  ({s_cold['media_rendered_now']} media rendered, "
          f"{s_cold['timings']['media_cpu_s']} s of render CPU)")
    print(f"   warm {t_warm:7.1f} s  ({s_warm['media_rendered_now']} media rendered)")
    print(f"   cold / warm: {t_cold / t_warm:.1f}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--posts", type=int, default=None, help="target posts (default: scale xl, >= 1M generated)")
    ap.add_argument("--days", type=int, default=30, help="days of the metadata-only world")
    ap.add_argument("--skip-media", action="store_true", help="leave out the small world with media")
    args = ap.parse_args()
    print(f"bench_world: {_load()}")
    with tempfile.TemporaryDirectory(prefix="trendtrace-bench-world-") as d:
        tmp = Path(d)
        bench_metadata(args.posts, args.days, tmp)
        if not args.skip_media:
            bench_media(5, tmp)
    print(f"bench_world: {_load()}")


if __name__ == "__main__":
    main()
