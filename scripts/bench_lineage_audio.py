"""What the audio duet/stitch evidence costs a day: match_sounds + link_lineage with it vs without, one run.

Takes a backfilled sample world (its landing zone and warehouse), copies the warehouse, and on the busiest
partition day reruns match_sounds once and link_lineage with the audio evidence (TRENDTRACE_LINEAGE_AUDIO=1)
and without (=0), alternating (with --audio-only, "with" also makes audio-only claims,
TRENDTRACE_LINEAGE_AUDIO_ONLY=1; without it, the default: the audio grades id and caption claims only),
`--repeat` times each; prints the medians and the ratio (match_sounds + link_lineage with) / (match_sounds +
link_lineage without). Times are wall clock on whatever machine runs it: read the ratio, not the seconds.

    uv run python scripts/bench_lineage_audio.py --world data/demo [--warehouse data/warehouse/trendtrace.duckdb]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import tempfile
import time
from pathlib import Path

import duckdb


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--world", type=Path, required=True, help="sample world folder (holds landing/)")
    ap.add_argument("--warehouse", type=Path, default=None, help="its backfilled warehouse (default <world>/w.duckdb)")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--audio-only", action="store_true",
                    help="'with' also makes audio-only claims (TRENDTRACE_LINEAGE_AUDIO_ONLY=1; default: claims only)")
    args = ap.parse_args()
    os.environ["TRENDTRACE_LINEAGE_AUDIO_ONLY"] = "1" if args.audio_only else "0"
    src = args.warehouse or args.world / "w.duckdb"
    work = Path(tempfile.mkdtemp(prefix="bench-lineage-audio-"))
    path = work / "w.duckdb"
    shutil.copyfile(src, path)
    os.environ["TRENDTRACE_LANDING"] = str((args.world / "landing").resolve())
    os.environ["TRENDTRACE_WAREHOUSE"] = str(path)
    from pipelines.stages import link_lineage, match_sounds  # after the environment names the copy

    con = duckdb.connect(str(path), read_only=True)
    day, n_posts = con.execute(
        "SELECT ingest_day, count(*) FROM posts GROUP BY ALL ORDER BY 2 DESC, 1 LIMIT 1").fetchall()[0]
    con.close()

    def timed(stage, audio: str | None = None) -> float:
        if audio is not None:
            os.environ["TRENDTRACE_LINEAGE_AUDIO"] = audio
        t = time.perf_counter()
        result = stage.run(day, "bench")
        assert result.status == "success", result.message
        return time.perf_counter() - t

    ms = timed(match_sounds)
    with_audio, without = [], []
    for _ in range(args.repeat):
        without.append(timed(link_lineage, "0"))
        with_audio.append(timed(link_lineage, "1"))
    w, wo = statistics.median(with_audio), statistics.median(without)
    print(f"partition {day}: {n_posts} posts")
    print(f"match_sounds                      {ms:7.2f} s")
    print(f"link_lineage without audio (med.) {wo:7.2f} s   runs {', '.join(f'{x:.2f}' for x in without)}")
    print(f"link_lineage with audio (med.)    {w:7.2f} s   runs {', '.join(f'{x:.2f}' for x in with_audio)}")
    print(f"(match_sounds + link_lineage) with / without audio evidence = {(ms + w) / (ms + wo):.2f}x "
          f"(link_lineage alone {w / wo:.2f}x)")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
