"""Measure audio files: decode once, then hash, duration, levels, the raw fingerprint and spectral peaks
from the same PCM.

This module measures and never judges: no silence or duration thresholds live here (the data contract
applies them), and a bad file is a result with `decoded=False`, not an exception.
"""

from __future__ import annotations

import hashlib
import math
import os
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.text import Text

from pipelines.audio.chromaprint import ALGORITHM, raw_fingerprint
from pipelines.audio.decode import SAMPLE_RATE, DecodeError, declared_duration_s, decode_pcm
from pipelines.audio.peaks import peaks

MAX_DECODE_SECONDS: float = 20 * 60 + 1  # decode at most this much; longer files report their declared duration
DBFS_FLOOR = -120.0  # digital silence (log of 0) is reported as this instead of -inf
_FULL_SCALE = 32768.0
_HASH_CHUNK = 1 << 20
_RMS_CHUNK = 1 << 20


@dataclass(slots=True)
class AudioAnalysis:
    """What one file measured; `error_rule`/`error` explain a file that could not be decoded."""

    audio_sha256: str  # "" when the file could not be read at all
    path: str
    decoded: bool
    duration_s: float | None  # decoded sample count; past MAX_DECODE_SECONDS the container's declared duration
    peak_dbfs: float | None  # max |x| in dBFS, floored at DBFS_FLOOR
    rms_dbfs: float | None
    fingerprint: np.ndarray | None  # uint32 raw Chromaprint (may be empty for very short clips)
    algorithm: str
    error_rule: str | None  # DecodeError.rule when not decoded
    error: str | None
    seconds: float  # wall time spent on this file
    peak_frames: np.ndarray | None = None  # spectral peaks for landmark matching (pipelines.audio.peaks)
    peak_bins: np.ndarray | None = None


def file_sha256(path: Path) -> str:
    """Hex SHA-256 of the file's bytes, streamed in 1 MiB chunks so large videos never sit in memory."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(_HASH_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _dbfs(level: float) -> float:
    return max(DBFS_FLOOR, 20.0 * math.log10(level / _FULL_SCALE)) if level > 0 else DBFS_FLOOR


def levels_dbfs(pcm: np.ndarray) -> tuple[float, float]:
    """(peak, rms) of int16 samples in dBFS; the sum of squares is exact (int64 over 1 Mi-sample blocks)."""
    peak = max(int(pcm.max()), -int(pcm.min()))  # avoids abs(-32768) overflowing int16
    squares = sum(int(np.dot(block, block)) for block in
                  (pcm[i : i + _RMS_CHUNK].astype(np.int64) for i in range(0, pcm.size, _RMS_CHUNK)))
    return _dbfs(float(peak)), _dbfs(math.sqrt(squares / pcm.size))


def analyse_file(path: Path, sha256: str | None = None) -> AudioAnalysis:
    """Hash, decode once (capped at MAX_DECODE_SECONDS) and measure `path`; failures go into the result.

    Pass `sha256` when the caller already hashed the file (e.g. for de-duplication) to skip re-reading it.
    """
    started = time.perf_counter()
    path = Path(path)
    result = AudioAnalysis(sha256 or "", str(path), False, None, None, None, None, ALGORITHM, None, None, 0.0)
    try:
        if not result.audio_sha256:
            result.audio_sha256 = file_sha256(path)
        pcm = decode_pcm(path, SAMPLE_RATE, max_seconds=MAX_DECODE_SECONDS)
    except DecodeError as exc:
        result.error_rule, result.error = exc.rule, exc.message
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError) as exc:
        result.error_rule, result.error = "not_found", f"{path}: {exc.strerror or exc}"
    except PermissionError as exc:
        result.error_rule, result.error = "undecodable", f"{path}: cannot read ({exc.strerror or exc})"
    else:
        result.decoded = True
        result.duration_s = pcm.size / SAMPLE_RATE
        if result.duration_s >= MAX_DECODE_SECONDS - 1.0 / SAMPLE_RATE:
            # Decoding stopped at its cap: the decoded length (1201 s) is where we stopped, not how long the
            # file is. The container's declared duration says that (a 30-minute file reports 1800 s).
            declared = declared_duration_s(path)
            if declared is not None and declared > result.duration_s:
                result.duration_s = declared
        result.peak_dbfs, result.rms_dbfs = levels_dbfs(pcm)
        result.fingerprint = raw_fingerprint(pcm, SAMPLE_RATE)
        result.peak_frames, result.peak_bins = peaks(pcm)
    result.seconds = time.perf_counter() - started
    return result


class _FilesPerSecond(ProgressColumn):
    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        return Text(f"{speed:.1f} files/s" if speed else "- files/s", style="progress.data.speed")


def analyse_files(
    paths: Sequence[Path],
    workers: int | None = None,
    progress: bool = True,
    description: str = "fingerprinting",
    sha256s: Sequence[str] | None = None,
) -> list[AudioAnalysis]:
    """`analyse_file` over many files in parallel, results in input order; the progress bar goes to stderr.

    `sha256s` (one per path, from the stage that already hashed the files) skips reading each file twice.

    Threads, not processes: PyAV releases the GIL while demuxing and decoding, libchromaprint is called
    through ctypes (GIL released) and the peak picking is array-wide numpy; what holds the GIL is the filter
    graph's resampling (~4 ms of ~20 ms per file). Across machines, the DAG maps shards over workers instead.
    A process pool would re-import `__main__` in its workers, which breaks inside Airflow task processes (their
    environment forbids metadata-DB access at import) and in unguarded scripts.
    """
    paths = [Path(p) for p in paths]
    known = list(sha256s) if sha256s is not None else [None] * len(paths)
    if len(known) != len(paths):
        raise ValueError(f"{len(known)} sha256s for {len(paths)} paths")
    workers = max(1, min(workers or os.cpu_count() or 1, len(paths) or 1))
    results: list[AudioAnalysis | None] = [None] * len(paths)
    bar = Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        _FilesPerSecond(),
        TimeElapsedColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
        console=Console(stderr=True),
        disable=not progress,
    )
    with bar:
        task = bar.add_task(description, total=len(paths))
        if workers == 1:
            for i, path in enumerate(paths):
                results[i] = analyse_file(path, known[i])
                bar.advance(task)
        else:
            with ThreadPoolExecutor(max_workers=workers) as pool:
                futures = {pool.submit(analyse_file, path, known[i]): i for i, path in enumerate(paths)}
                for future in as_completed(futures):
                    results[futures[future]] = future.result()
                    bar.advance(task)
    done = [r for r in results if r is not None]
    assert len(done) == len(paths), "every submitted file yields a result or raises"
    return done
