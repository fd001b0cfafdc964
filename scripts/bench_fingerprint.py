"""Fingerprinting speed: our stage's analysis vs one `fpcalc` process per file vs decoding alone.

    uv run python scripts/bench_fingerprint.py [--media DIR] [--files 500] [--workers N]

The same files (default: the first 500 media files of the demo world, `make demo`) are processed three ways
in one run, and the ratios are printed:
  fpcalc        one `fpcalc -raw -length 0` process per file, one after another (pyacoustid's fpcalc path);
  decode only   in-process decode (PyAV) → 11025 Hz mono PCM for every file, same thread pool: the floor;
  our stage     pipelines.audio.analysis.analyse_files: decode once, Chromaprint + spectral peaks.
Targets (issue #5): our stage ≥ 1.8× fpcalc's files/s on 2 cores, and within 1.3× of decode only.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from pipelines.audio.analysis import analyse_files
from pipelines.audio.decode import decode_pcm
from pipelines.settings import PROJECT_ROOT

EXTENSIONS = {".mp4", ".m4a", ".mp3", ".aac", ".ogg", ".opus", ".wav", ".webm", ".flac"}


def media_files(root: Path, limit: int) -> list[Path]:
    files = sorted(p for p in root.rglob("*") if p.suffix.lower() in EXTENSIONS and p.is_file())
    return files[:limit]


def fpcalc_all(files: list[Path]) -> float:
    """Seconds for one fpcalc per file; Debian's fpcalc exits 3 after a valid fingerprint, so only stdout counts."""
    t0 = time.perf_counter()
    for f in files:
        proc = subprocess.run(["fpcalc", "-raw", "-length", "0", str(f)], capture_output=True, check=False)
        if b"FINGERPRINT=" not in proc.stdout:
            print(f"  fpcalc gave no fingerprint for {f.name}")
    return time.perf_counter() - t0


def decode_all(files: list[Path], workers: int) -> float:
    def one(f: Path) -> None:
        with contextlib.suppress(Exception):  # a corrupt file costs its attempt, like in the stage
            decode_pcm(f)

    t0 = time.perf_counter()
    with ThreadPoolExecutor(workers) as pool:
        list(pool.map(one, files))
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--media", type=Path, default=PROJECT_ROOT / "data" / "demo" / "landing")
    ap.add_argument("--files", type=int, default=500)
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    args = ap.parse_args()
    files = media_files(args.media, args.files)
    if not files:
        raise SystemExit(f"no media files under {args.media}: run `make demo` first or pass --media DIR")
    print(f"{len(files)} files from {args.media}, {args.workers} workers")
    analyse_files(files, workers=args.workers, progress=False)  # warm the page cache once, untimed
    t0 = time.perf_counter()
    analyse_files(files, workers=args.workers, progress=False)
    t_ours = time.perf_counter() - t0
    t_decode = decode_all(files, args.workers)
    t_fpcalc = fpcalc_all(files)
    n = len(files)
    print(f"  fpcalc, one process per file   {t_fpcalc:7.2f} s  {n / t_fpcalc:7.1f} files/s")
    print(f"  decode only (floor)            {t_decode:7.2f} s  {n / t_decode:7.1f} files/s")
    print(f"  our stage (decode+chroma+peaks){t_ours:7.2f} s  {n / t_ours:7.1f} files/s")
    print(f"  our stage vs fpcalc: {t_fpcalc / t_ours:.2f}x faster (target >= 1.8x)")
    print(f"  our stage vs decode only: {t_ours / t_decode:.2f}x the floor's time (target <= 1.3x)")


if __name__ == "__main__":
    main()
