"""A real day's match stage against indexes of several sizes, one run (issue 17: <= 1.5x per post from 10k to 100k
sounds; the default 1k and 10k: 100k outgrew this machine, docs/matching.md).

Takes a backfilled sample world (without --world, the demo's, built once: scripts/bench_lineage_audio.py), makes
one copy of its warehouse per index size, pads each copy's index with synthetic sounds up to that size
(scripts/bench_match_day.py's padding: random peaks and Chromaprint items at the world's densities, indexed a
month before the world starts; they match nothing, so the day's results stay the world's), and reruns the real
match_sounds stage on the busiest partition day, the sizes alternating `--rounds` times so they share the load.
Prints per size: seconds and ms per post (best and each round), the steps that take the time (self seconds,
pipelines/matching/profile.py) and the ratio of the largest size to the smallest. The day's post_sounds must be
identical at every size (printed): the padding adds candidates, never answers.

    uv run python scripts/bench_match_index_size.py [--world W --warehouse F] [--sounds 1000 10000] [--rounds 2]
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
sys.path.insert(0, str(ROOT))

import bench_lineage_audio as bla  # noqa: E402  (the demo world, the padded copies)


def match_once(path: Path, day) -> tuple[float, dict[str, float], list[tuple]]:
    """The real stage on `day`; its wall seconds, self seconds per step, and the day's post_sounds rows."""
    from pipelines import warehouse
    from pipelines.matching.profile import Profile
    from pipelines.stages import match_sounds

    os.environ["TRENDTRACE_WAREHOUSE"] = str(path)
    profile = Profile()
    t = time.perf_counter()
    result = match_sounds.run(day, "bench", profile=profile)
    took = time.perf_counter() - t
    assert result.status == "success", result.message
    con = warehouse.connect(path)
    try:
        rows = con.execute("""
            SELECT ps.post_id, ps.sound_id, ps.sound_id LIKE 'snd-synthetic%' AS synthetic, ps.role,
                   round(ps.speed, 4)
            FROM post_sounds ps JOIN posts p USING (post_id)
            WHERE p.ingest_day = ? ORDER BY ALL""", [day]).fetchall()
    finally:
        con.close()
    return took, dict(profile.self_s), rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    bla.add_world_arguments(ap)
    ap.add_argument("--sounds", type=int, nargs="+", default=[1000, 10000],
                    help="index sizes (100000 outgrew this 24 GB machine: docs/matching.md)")
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--work", type=Path, default=None, help="folder for the padded copies (default: a temporary one)")
    args = ap.parse_args()
    os.environ.setdefault("TRENDTRACE_PROGRESS", "0")
    world, src = bla.world_of(args)
    os.environ["TRENDTRACE_LANDING"] = str((world / "landing").resolve())
    day, n_posts = bla.busiest_day(src)
    work = Path(tempfile.mkdtemp(prefix="bench-match-index-", dir=args.work))
    try:
        copies = {n: bla.padded_copy(src, work, n)[0] for n in args.sounds}
        runs: dict[int, list[tuple[float, dict[str, float], list[tuple]]]] = {n: [] for n in args.sounds}
        for r in range(args.rounds):
            for n, path in copies.items():
                runs[n].append(match_once(path, day))
                print(f"  round {r + 1}, index of {n}: {runs[n][-1][0]:.1f} s", flush=True)
        print(f"partition {day}: {n_posts} posts, match_sounds against each index, best of {args.rounds}")
        for n in args.sounds:
            best = min(runs[n], key=lambda x: x[0])
            steps = sorted(best[1].items(), key=lambda kv: -kv[1])[:6]
            print(f"  {n:>7} sounds: {best[0]:7.1f} s, {1000 * best[0] / n_posts:7.1f} ms per post   runs "
                  f"{', '.join(f'{x[0]:.1f}' for x in runs[n])}")
            print("            steps (self s): " + ", ".join(f"{k} {v:.1f}" for k, v in steps))
        lo, hi = args.sounds[0], args.sounds[-1]
        ratio = min(x[0] for x in runs[hi]) / min(x[0] for x in runs[lo])
        print(f"  {lo} -> {hi} sounds: match stage per post {ratio:.2f}x (issue 17's target: <= 1.5x from 10k to 100k)")
        same = all(run[2] == runs[lo][0][2] for n in args.sounds for run in runs[n])
        synthetic = sum(row[2] for run in runs[hi] for row in run[2])
        print(f"  the day's post_sounds identical at every size and round: {same}; rows on synthetic sounds: "
              f"{synthetic}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
