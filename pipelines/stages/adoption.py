"""adoption: sound_daily and sound_stage_changes up to the day, recomputed from the earliest day the partition's
posts (of any age) changed, for the sounds they touch (adoption thresholds in config/adoption.yaml)."""

from __future__ import annotations

from datetime import date

from pipelines import warehouse
from pipelines.lineage import build_scope, drop_scope
from pipelines.runlog import StageResult, stage_run
from pipelines.settings import ADOPTION_STAGES, adoption_thresholds
from pipelines.sound_daily import refresh_sound_daily


def run(day: date, run_id: str = "cli") -> StageResult:
    thresholds = adoption_thresholds()
    with stage_run("adoption", day, run_id) as (con, result):
        with warehouse.transaction(con):
            _in_scope, first = build_scope(con, day)
            rows, back, end = refresh_sound_daily(con, day, thresholds)
            drop_scope(con)
        per_adoption_stage = dict(con.execute(
            "SELECT stage, count(*) FROM sound_daily WHERE day = $day GROUP BY ALL", {"day": day}
        ).fetchall())
        result.rows_in = con.execute("SELECT count(DISTINCT sound_id) FROM sound_daily").fetchall()[0][0]
        result.rows_out = rows
        if rows == 0:
            result.status = "no_data"
        result.message = (
            f"{rows} sound-days written up to {end} ({back} sounds recomputed before {day}, "
            f"posts in scope created from {first or '-'}); on {day}: "
            + ", ".join(f"{per_adoption_stage.get(s, 0)} {s}" for s in ADOPTION_STAGES)
        )
        return result
