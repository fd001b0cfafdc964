"""Publish time against warehouse size: the 1.4-format analyst copy (pipelines.publish_copy.write_copy) next to
a plain file copy of the whole warehouse (what publish did before), on a real warehouse and on copies of it
whose analyst tables are scaled up k times (posts, post_sounds, lineage, sound_daily rows duplicated with new
ids), so the growth is measured in one run on one machine.

    uv run python scripts/bench_publish.py [--warehouse FILE ...] [--scale 1 4 16]

Default warehouse: data/warehouse/trendtrace.duckdb (what `make demo` builds). Nothing is written next to it:
every file lives in a temporary folder.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

import duckdb

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pipelines import warehouse as wh
from pipelines.publish_copy import write_copy
from pipelines.settings import PROJECT_ROOT

SCALE_SQL = PROJECT_ROOT / "sql" / "bench" / "scale_analyst_tables.sql"


def _mb(path: Path) -> float:
    return path.stat().st_size / 1e6


def _scaled(source: Path, folder: Path, k: int) -> Path:
    """A copy of `source` whose analyst tables hold k times their rows (copies get ids suffixed ~1..~k-1)."""
    target = folder / f"x{k}.duckdb"
    shutil.copyfile(source, target)
    if k > 1:
        con = duckdb.connect(str(target))
        try:
            for statement in con.extract_statements(SCALE_SQL.read_text(encoding="utf-8")):
                con.execute(statement, {"k": k} if "k" in statement.named_parameters else {})
            con.execute("CHECKPOINT")
        finally:
            con.close()
    return target


def bench(source: Path, scales: list[int]) -> list[tuple]:
    results = []
    with tempfile.TemporaryDirectory(prefix="trendtrace-bench-publish-") as tmp:
        folder = Path(tmp)
        for k in scales:
            live = _scaled(source, folder, k)
            con = wh.connect(live)  # the current schema (views) as publish sees it
            try:
                con.execute("CHECKPOINT")
                posts = con.execute("SELECT count(*) FROM posts").fetchall()[0][0]
                target = folder / f"x{k}.published.duckdb"
                timings = []
                for _ in range(2):  # best of two: the first run also pays for warming caches up
                    target.unlink(missing_ok=True)
                    t0 = time.perf_counter()
                    write_copy(con, target)
                    timings.append(time.perf_counter() - t0)
                copy_s = min(timings)
            finally:
                con.close()
            t0 = time.perf_counter()
            shutil.copyfile(live, folder / f"x{k}.filecopy.duckdb")
            file_s = time.perf_counter() - t0
            results.append(("/".join(source.parts[-3:]), k, posts, _mb(live), _mb(target), copy_s, file_s))
            for leftover in folder.glob(f"x{k}*"):
                leftover.unlink()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--warehouse", type=Path, nargs="*",
                        default=[PROJECT_ROOT / "data" / "warehouse" / "trendtrace.duckdb"])
    parser.add_argument("--scale", type=int, nargs="*", default=[1, 4, 16])
    args = parser.parse_args()
    found = [w for w in args.warehouse if w.is_file()]
    if not found:
        print(f"bench_publish: no warehouse at {', '.join(map(str, args.warehouse))} (run `make demo` first); skipped")
        return
    print("publish (1.4-format analyst copy, index left out) vs a plain copy of the whole file")
    print(f"{'warehouse':<34}{'x':>4}{'posts':>9}{'live MB':>10}{'copy MB':>10}{'publish s':>11}{'MB/s':>8}"
          f"{'file copy s':>13}{'ratio':>7}")
    for name, k, posts, live_mb, copy_mb, copy_s, file_s in (r for w in found for r in bench(w, args.scale)):
        print(f"{name:<34}{k:>4}{posts:>9}{live_mb:>10.1f}{copy_mb:>10.1f}{copy_s:>11.2f}{live_mb / copy_s:>8.1f}"
              f"{file_s:>13.2f}{copy_s / max(file_s, 1e-9):>7.1f}")


if __name__ == "__main__":
    main()
