"""fingerprint: decode each new distinct media file once, measure it, fingerprint it, judge the media contract.

From the same PCM it also stores the spectral peaks the matcher's landmark signal is built from
(`audio_peaks`, issue 5).

Work is committed in chunks, so a run killed half-way resumes where it stopped instead of decoding again.
"""

from __future__ import annotations

from datetime import date

import polars as pl

from pipelines import settings, warehouse
from pipelines.contracts import validate_rows
from pipelines.frames import utcnow
from pipelines.runlog import StageResult, stage_run
from pipelines.stages.quarantine_rows import location_series, quarantine_frame

CHUNK_FILES = 256


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


def _analyse_chunk(day: date, chunk: pl.DataFrame, done: int, total: int, what: str) -> list:
    from pipelines.audio.analysis import analyse_files

    analyses = analyse_files(
        [settings.partition_dir(day) / p for p in chunk["media_path"].to_list()],
        workers=settings.workers(),
        progress=settings.show_progress(),
        description=f"{what} dt={day} ({done + chunk.height}/{total})",
    )
    for a, sha in zip(analyses, chunk["audio_sha256"].to_list()):
        a.audio_sha256 = sha  # validate hashed the bytes already; keep its key
    return analyses


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


def run(day: date, run_id: str = "cli") -> StageResult:
    import pandas as pd

    cs = settings.contract_settings()
    with stage_run("fingerprint", day, run_id) as (con, result):
        todo = con.sql(warehouse.sql_text("ops/fingerprint_todo"), params={"day": day}).pl()
        decoded_now = 0
        for start in range(0, todo.height, CHUNK_FILES):
            chunk = todo.slice(start, CHUNK_FILES)
            analyses = _analyse_chunk(day, chunk, start, todo.height, "fingerprinting")
            new_media_checks, new_fingerprints = analyses_frames(analyses)
            with warehouse.transaction(con):
                warehouse.run_sql(con, "ops/insert_media_checks",
                                  frames={"new_media_checks": new_media_checks, "new_fingerprints": new_fingerprints})
                warehouse.run_sql(con, "ops/match_insert_peaks", frames={"new_peaks": peaks_frame(analyses)})
            decoded_now += new_fingerprints.height
        # files fingerprinted before peaks were stored: decode once more, store only their peaks
        backfill = con.sql(warehouse.sql_text("ops/match_peaks_todo"), params={"day": day}).pl()
        for start in range(0, backfill.height, CHUNK_FILES):
            chunk = backfill.slice(start, CHUNK_FILES)
            analyses = _analyse_chunk(day, chunk, start, backfill.height, "spectral peaks")
            with warehouse.transaction(con):
                warehouse.run_sql(con, "ops/match_insert_peaks", frames={"new_peaks": peaks_frame(analyses)})

        judged = con.sql(warehouse.sql_text("ops/media_audio_candidates"), params={"day": day}).pl()
        frame = judged.select(["_row", "post_id", "media_path", "decoded", "audio_duration_s", "peak_dbfs", "decode_error"]).to_pandas()
        violations = validate_rows(
            frame, "media_audio",
            {"min_duration_s": cs.min_duration_s, "max_duration_s": cs.max_duration_s, "silence_peak_dbfs": cs.silence_peak_dbfs},
            location=pd.Series(location_series(judged).to_list(), index=frame.index),
        )
        rejected = judged.filter(pl.col("_row").is_in(pl.Series(sorted(violations), dtype=judged.schema["_row"]).implode()))
        moved = quarantine_frame(day, "fingerprint", rejected, violations)
        with warehouse.transaction(con):
            warehouse.run_sql(con, "ops/move_posts_to_quarantine", {"day": day}, frames={"moved": moved})
        result.rows_in = judged.height
        result.rows_out = decoded_now
        result.message = (
            f"{todo.height} new media files decoded, {decoded_now} fingerprinted; "
            f"{judged.height - rejected.height} posts with good audio, {rejected.height} moved to quarantine"
        )
        return result
