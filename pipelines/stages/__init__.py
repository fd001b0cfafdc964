"""One module per DAG stage; each has `run(day, run_id)`, one day as a transaction, returning a StageResult.

dags/moment_to_movement.py imports each stage module by name in its task and chains the tasks explicitly;
tests and scripts call a stage's `run` directly (e.g. `validate.run(day)`), so every caller greps.
"""

from __future__ import annotations

# The stages that record a pipeline_runs row, in DAG order, with what each does (their task docs in the
# Airflow UI). `trendtrace run` checks each day recorded all of them.
STAGES: dict[str, str] = {
    "ingest": (
        "Read the day's export files (web JSON, Research API JSON, CSV) into staging; unreadable records to quarantine."
    ),
    "validate": "Posts and media-location contracts (Great Expectations): staging → posts | quarantine.",
    "fingerprint": (
        "Decode each new media file once (in shards), fingerprint it with Chromaprint, load, "
        "judge the media-audio contract."
    ),
    "match_sounds": "Identify canonical sounds by their audio.",
    "link_lineage": "Link duets, stitches, reuses and re-uploads to their origin posts.",
    "build_cascades": "Cascade trees and metrics per origin post.",
    "adoption": "Daily adoption per sound and its stage.",
    "check_invariants": (
        "Invariants of the core tables (sql/checks/): a violation fails the run, naming the rows, "
        "before alerts or publish see them."
    ),
    "alerts": "Threshold crossings, recorded and delivered once.",
    "publish": "Atomically replace the analysts' read-only copy of the warehouse.",
}
TASKS = tuple(STAGES)
