"""Stages that are not built yet. They do nothing and say so in pipeline_runs: never pretend."""

from __future__ import annotations

from datetime import date

from pipelines.runlog import StageResult, stage_run

PLANNED = {
    "match_sounds": "issue #5 (sound identity engine)",
}


def run(task: str, day: date, run_id: str = "cli") -> StageResult:
    with stage_run(task, day, run_id) as (_con, result):
        result.status = "not_implemented"
        result.message = f"stage {task} is not built yet ({PLANNED.get(task, 'planned')}); it did nothing"
        return result
