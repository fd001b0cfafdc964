"""fingerprint: decode each new distinct media file once, measure it, fingerprint it, judge the media contract.

From the same PCM it also stores the spectral peaks the matcher's landmark signal is built from
(`audio_peaks`, issue 5).

Decoding runs in shards (pipelines.stages.fingerprint_shards): in Airflow one mapped task per shard, each
writing Parquet, then one task loads them all; here `run` does the same in one process. Finished shards are
kept until the load commits, so a run killed half-way resumes where it stopped instead of decoding again.
"""

from __future__ import annotations

from datetime import date

import polars as pl

from pipelines import settings, warehouse
from pipelines.contracts import validate_rows
from pipelines.runlog import StageResult, stage_run
from pipelines.stages import fingerprint_shards
from pipelines.stages.quarantine_rows import location_series, quarantine_frame


def load(
    con, day: date, shards: list[dict], result: StageResult, shard_results: list[dict] | None = None
) -> StageResult:
    """Load every planned shard's outputs, judge the media_audio contract and quarantine, in one transaction.

    Idempotent: rows of files already in the warehouse are left alone, so a rerun never adds them twice; the
    day's fingerprint_quarantine rows are replaced (every validated post of the day is judged again).
    The day's work dir is removed only after the commit (a failed load can be retried from the outputs).
    """
    import pandas as pd

    cs = settings.contract_settings()
    frames = fingerprint_shards.shard_outputs(shards)
    with warehouse.transaction(con):
        warehouse.run_sql(con, "fingerprint/insert_media_checks", frames={
            "new_media_checks": frames["media_checks"], "new_fingerprints": frames["audio_fingerprints"]})
        warehouse.run_sql(con, "fingerprint/insert_peaks", frames={"new_peaks": frames["audio_peaks"]})

        judged = con.sql(warehouse.sql_text("fingerprint/media_audio_candidates"), params={"day": day}).pl()
        frame = judged.select(
            ["_row", "post_id", "media_path", "decoded", "audio_duration_s", "peak_dbfs", "decode_error"]
        ).to_pandas()
        violations = validate_rows(
            frame, "media_audio",
            {
                "min_duration_s": cs.min_duration_s,
                "max_duration_s": cs.max_duration_s,
                "silence_peak_dbfs": cs.silence_peak_dbfs,
            },
            location=pd.Series(location_series(judged).to_list(), index=frame.index),
        )
        rejected = judged.filter(
            pl.col("_row").is_in(pl.Series(sorted(violations), dtype=judged.schema["_row"]).implode())
        )
        # fingerprint's own table: posts (a view) leaves these out; validate's rows are never touched
        quarantined = quarantine_frame(day, "fingerprint", rejected, violations)
        warehouse.run_sql(con, "fingerprint/replace_quarantine", {"day": day}, frames={"rejected": quarantined})
    fingerprint_shards.remove_day(day)

    decoded_now = frames["audio_fingerprints"].height
    new_files = frames["media_checks"].height
    reused = sum(1 for r in shard_results or [] if r.get("status") == "skipped")
    result.rows_in = judged.height
    result.rows_out = decoded_now
    result.message = (
        f"{new_files} new media files decoded in {len(shards)} shards ({reused} reused from an earlier attempt), "
        f"{decoded_now} fingerprinted, {frames['audio_peaks'].height} with peaks; "
        f"{judged.height - rejected.height} posts with good audio, {rejected.height} moved to quarantine"
    )
    return result


def run(day: date, run_id: str = "cli") -> StageResult:
    """The whole stage in one process (tests, scripts): plan, every shard in turn, load."""
    with stage_run("fingerprint", day, run_id) as (con, result):
        shards = fingerprint_shards.plan(con, day)
        shard_results = [fingerprint_shards.run_shard(s) for s in shards]
        return load(con, day, shards, result, shard_results)


def run_load(day: date, run_id: str, shards: list[dict], shard_results: list[dict] | None = None) -> StageResult:
    """The Airflow `fingerprint` task: load the mapped shards' outputs (recorded in pipeline_runs as the stage)."""
    with stage_run("fingerprint", day, run_id) as (con, result):
        return load(con, day, shards, result, shard_results)
