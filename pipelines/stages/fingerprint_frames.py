"""The rows one fingerprint shard produces, as frames with the warehouse's column types.

Shared by the shard workers (pipelines.stages.fingerprint_shards, which write them as Parquet) and the load
task (pipelines.stages.fingerprint, which reads them back): one module both import, so neither imports the
other. Also used by scripts/bench_matching.py to fill an index without the stage.
"""

from __future__ import annotations

import polars as pl

from pipelines.frames import utcnow


def peaks_frame(analyses: list) -> pl.DataFrame:
    """audio_peaks rows for the decoded files (spectral peaks for the matcher's landmark signal)."""
    from pipelines.audio.peaks import PEAKS_ALGORITHM

    done = [a for a in analyses if a.decoded and a.peak_frames is not None]
    return pl.DataFrame(
        {
            "audio_sha256": [a.audio_sha256 for a in done],
            "frames": [pl.Series(a.peak_frames, dtype=pl.Int32) for a in done],
            "bins": [pl.Series(a.peak_bins, dtype=pl.UInt16) for a in done],
            "algorithm": [PEAKS_ALGORITHM] * len(done),
            "created_at": [utcnow()] * len(done),
        },
        schema={"audio_sha256": pl.String, "frames": pl.List(pl.Int32), "bins": pl.List(pl.UInt16),
                "algorithm": pl.String, "created_at": pl.Datetime("us")},
    )


def analyses_frames(analyses: list) -> tuple[pl.DataFrame, pl.DataFrame]:
    """media_checks rows for every analysed file, audio_fingerprints rows for the decoded ones."""
    now = utcnow()
    checks = pl.DataFrame(
        {
            "audio_sha256": [a.audio_sha256 for a in analyses],
            "decoded": [a.decoded for a in analyses],
            "duration_s": [a.duration_s for a in analyses],
            "peak_dbfs": [a.peak_dbfs for a in analyses],
            "rms_dbfs": [a.rms_dbfs for a in analyses],
            "error_rule": [a.error_rule for a in analyses],
            "error": [a.error for a in analyses],
            "decode_seconds": [a.seconds for a in analyses],
            "checked_at": [now] * len(analyses),
        },
        schema={"audio_sha256": pl.String, "decoded": pl.Boolean, "duration_s": pl.Float64, "peak_dbfs": pl.Float64,
                "rms_dbfs": pl.Float64, "error_rule": pl.String, "error": pl.String, "decode_seconds": pl.Float64,
                "checked_at": pl.Datetime("us")},
    )
    done = [a for a in analyses if a.decoded and a.fingerprint is not None]
    fingerprints = pl.DataFrame(
        {
            "audio_sha256": [a.audio_sha256 for a in done],
            "duration_s": [a.duration_s for a in done],
            "fingerprint": [pl.Series(a.fingerprint, dtype=pl.UInt32) for a in done],
            "algorithm": [a.algorithm for a in done],
            "created_at": [now] * len(done),
        },
        schema={"audio_sha256": pl.String, "duration_s": pl.Float64, "fingerprint": pl.List(pl.UInt32),
                "algorithm": pl.String, "created_at": pl.Datetime("us")},
    )
    return checks, fingerprints
