"""What the audio duet/stitch evidence costs a day: match_sounds + link_lineage with it vs without, one run, at
the world's own index size and at a larger one (issue 18's speed target: <= 1.5x at the demo's scale and at 10k
indexed sounds).

Takes a backfilled sample world (its landing zone and warehouse; without --world, the demo's world, seed 7, quick
scale, 7 days, built and backfilled once into --cache), and for each index size: copies the warehouse, pads the
copy's index with synthetic sounds up to --sounds (scripts/bench_match_day.py's padding: random peaks and
Chromaprint items at the world's densities, indexed a month before the world starts; they match nothing), reruns
match_sounds once on the busiest partition day, then link_lineage with the audio evidence
(TRENDTRACE_LINEAGE_AUDIO=1) and without (=0), alternating `--repeat` times. With --audio-only, "with" also makes
audio-only claims (TRENDTRACE_LINEAGE_AUDIO_ONLY=1; without it, the default: the audio grades id and caption
claims only). Prints the medians and the ratio (match_sounds + link_lineage with) / (match_sounds +
link_lineage without) per index size. Times are wall clock on whatever machine runs it: read the ratios.

    uv run python scripts/bench_lineage_audio.py [--world data/demo --warehouse W] [--sounds 10000] [--audio-only]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

import duckdb

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
sys.path.insert(0, str(ROOT))

import bench_match_day as bmd  # noqa: E402  (its index padding)


def demo_world(cache: Path) -> tuple[Path, Path]:
    """The demo's world (seed 7, quick, 7 days) and its backfilled warehouse, built once into `cache`."""
    world, wh = cache / "world", cache / "w.duckdb"
    done = cache / "backfilled"
    if done.exists():
        return world, wh
    shutil.rmtree(cache, ignore_errors=True)
    cache.mkdir(parents=True)
    env = dict(os.environ, TRENDTRACE_LANDING=str(world / "landing"), TRENDTRACE_WAREHOUSE=str(wh))
    t = time.perf_counter()
    cli = str(Path(sys.executable).parent / "trendtrace")
    subprocess.run([cli, "sample-world", "--out", str(world), "--scale", "quick",
                    "--days", "7", "--seed", "7"], check=True, env=env, cwd=ROOT)
    subprocess.run([cli, "backfill"], check=True, env=env, cwd=ROOT)
    done.write_text("ok\n")
    print(f"demo world built and backfilled in {time.perf_counter() - t:.0f} s ({cache})")
    return world, wh


def add_world_arguments(ap: argparse.ArgumentParser) -> None:
    """--world, --warehouse and --cache: which backfilled world a bench runs on (world_of)."""
    ap.add_argument("--world", type=Path, default=None, help="sample world (holds landing/); default: the demo's")
    ap.add_argument("--warehouse", type=Path, default=None, help="its backfilled warehouse (default <world>/w.duckdb)")
    ap.add_argument("--cache", type=Path, default=ROOT / "data" / "cache" / "bench-lineage-audio",
                    help="where the demo's world is built once when --world is not given")


def world_of(args: argparse.Namespace) -> tuple[Path, Path]:
    """The world folder and its warehouse: the ones named, or the demo's, built once."""
    if args.world is None:
        return demo_world(args.cache)
    return args.world, args.warehouse or args.world / "w.duckdb"


def densities(con: duckdb.DuckDBPyConnection) -> tuple[float, float]:
    """Spectral peaks and Chromaprint items per second of the world's indexed audio."""
    peaks, items, seconds = con.execute("""
        SELECT sum(len(p.frames)), sum(len(f.fingerprint)), sum(f.duration_s)
        FROM match_audio a JOIN audio_peaks p USING (audio_sha256) JOIN audio_fingerprints f USING (audio_sha256)
    """).fetchone()
    return float(peaks) / float(seconds), float(items) / float(seconds)


def busiest_day(path: Path) -> tuple:
    """The partition day with the most posts, and that count."""
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute(
            "SELECT ingest_day, count(*) FROM posts GROUP BY ALL ORDER BY 2 DESC, 1 LIMIT 1").fetchall()[0]
    finally:
        con.close()


def padded_copy(src: Path, work: Path, sounds: int) -> tuple[Path, int]:
    """A copy of the warehouse whose index holds at least `sounds` audios (the world's own, then synthetic ones,
    indexed a month before the world starts), and how many it holds."""
    from pipelines import warehouse

    path = work / f"w-{sounds}.duckdb"
    shutil.copyfile(src, path)
    con = warehouse.connect(path)
    try:
        first = con.execute("SELECT min(ingest_day) FROM posts").fetchone()[0]
        n_real = int(con.execute("SELECT count(*) FROM match_audio").fetchone()[0])
        pad = max(0, sounds - n_real)
        if pad:
            t = time.perf_counter()
            bmd.pad_index(con, pad, 7, *densities(con), first - timedelta(days=30))
            con.execute("CHECKPOINT")
            print(f"index of {sounds}: {pad} synthetic sounds added in {time.perf_counter() - t:.0f} s, "
                  f"file {path.stat().st_size / 1e9:.2f} GB", flush=True)
    finally:
        con.close()
    return path, n_real + pad


def measure(src: Path, work: Path, sounds: int, repeat: int) -> dict:
    """One index size: a padded copy, match_sounds once, link_lineage with and without the audio, alternating."""
    path, n_index = padded_copy(src, work, sounds)
    os.environ["TRENDTRACE_WAREHOUSE"] = str(path)
    from pipelines.stages import link_lineage, match_sounds

    day, n_posts = busiest_day(path)

    def timed(stage, audio: str | None = None) -> float:
        if audio is not None:
            os.environ["TRENDTRACE_LINEAGE_AUDIO"] = audio
        t = time.perf_counter()
        result = stage.run(day, "bench")
        assert result.status == "success", result.message
        return time.perf_counter() - t

    ms = timed(match_sounds)
    with_audio, without = [], []
    for _ in range(repeat):
        without.append(timed(link_lineage, "0"))
        with_audio.append(timed(link_lineage, "1"))
    path.unlink()
    return {"day": day, "posts": n_posts, "index": n_index, "match": ms, "with": with_audio, "without": without}


def report(r: dict) -> None:
    w, wo = statistics.median(r["with"]), statistics.median(r["without"])
    print(f"index of {r['index']} audios, partition {r['day']}: {r['posts']} posts")
    print(f"  match_sounds                      {r['match']:7.2f} s")
    print(f"  link_lineage without audio (med.) {wo:7.2f} s   runs {', '.join(f'{x:.2f}' for x in r['without'])}")
    print(f"  link_lineage with audio (med.)    {w:7.2f} s   runs {', '.join(f'{x:.2f}' for x in r['with'])}")
    ratio = (r["match"] + w) / (r["match"] + wo)
    print(f"  (match_sounds + link_lineage) with / without audio evidence = {ratio:.2f}x "
          f"(link_lineage alone {w / wo:.2f}x)", flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_world_arguments(ap)
    ap.add_argument("--sounds", type=int, default=10000, help="also measure with the index padded to this many audios")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--audio-only", action="store_true",
                    help="'with' also makes audio-only claims (TRENDTRACE_LINEAGE_AUDIO_ONLY=1; default: claims only)")
    args = ap.parse_args()
    os.environ["TRENDTRACE_LINEAGE_AUDIO_ONLY"] = "1" if args.audio_only else "0"
    os.environ.setdefault("TRENDTRACE_PROGRESS", "0")
    world, src = world_of(args)
    os.environ["TRENDTRACE_LANDING"] = str((world / "landing").resolve())
    work = Path(tempfile.mkdtemp(prefix="bench-lineage-audio-"))
    try:
        for sounds in (0, args.sounds) if args.sounds else (0,):
            report(measure(src, work, sounds, args.repeat))
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
