"""One module per DAG stage; each runs one day as a transaction and returns a StageResult.

`run_stage` is the single entry point the DAG's tasks call, so dags/ holds wiring only.
"""

from __future__ import annotations

import importlib
from datetime import date

# The DAG's tasks, in order, with what each does (their docs in the Airflow UI).
STAGES: dict[str, str] = {
    "ingest": "Read the day's export files (web JSON, Research API JSON, CSV) into staging; unreadable records to quarantine.",
    "validate": "Posts and media-location contracts (Great Expectations): staging → posts | quarantine.",
    "fingerprint": "Decode each new media file once (in shards), fingerprint it with Chromaprint, load, judge the media-audio contract.",
    "match_sounds": "Identify canonical sounds by their audio.",
    "link_lineage": "Link duets, stitches, reuses and re-uploads to their origin posts.",
    "build_cascades": "Cascade trees and metrics per origin post.",
    "adoption": "Daily adoption per sound and its stage.",
    "alerts": "Threshold crossings, recorded and delivered once.",
    "publish": "Atomically replace the analysts' read-only copy of the warehouse.",
}
TASKS = tuple(STAGES)


def run_stage(task: str, day: date, run_id: str = "cli") -> dict:
    """Run stage `task` (module pipelines/stages/<task>.py) for partition `day`; the dict is small enough for XCom."""
    if task not in STAGES:
        raise ValueError(f"unknown stage {task!r}; stages are {', '.join(TASKS)}")
    stage = importlib.import_module(f"pipelines.stages.{task}")
    return stage.run(day, run_id).as_dict()
