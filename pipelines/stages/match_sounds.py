"""match_sounds: identify every sound inside every post of one ingest day, by its audio (issue 5).

The matching itself is pipelines/matching/engine.py; this stage replaces the day's rows in one transaction
(see docs/matching.md for signals, rules and tables).
"""

from __future__ import annotations

from datetime import date

from pipelines import settings, warehouse
from pipelines.matching import engine, tables
from pipelines.matching.profile import NO_PROFILE, Profile
from pipelines.runlog import StageResult, stage_run


def run(day: date, run_id: str = "cli", profile: Profile = NO_PROFILE) -> StageResult:
    """Match ingest day `day` again from scratch; `profile` times each step (scripts/bench_match_day.py)."""
    with stage_run("match_sounds", day, run_id) as (con, result), warehouse.transaction(con):
        with profile.step("reset"):
            warehouse.run_sql(con, "match_sounds/reset_day", {"day": day})
            warehouse.run_sql(con, "match_sounds/refresh_sounds")  # merge state without this day's merges
        matched = engine.match_day(con, day, settings.partition_dir(day), profile)
        with profile.step("writes"):
            if matched.files:
                warehouse.run_sql(con, "match_sounds/insert_results", frames=tables.day_frames(matched))
            warehouse.run_sql(con, "match_sounds/refresh_sounds")
        if not matched.files:
            result.status = "no_data"
            result.message = "no posts with fingerprinted audio on this day"
            return result
        n_posts = len(matched.outcomes)
        n_matched = sum(1 for o in matched.outcomes if o.outcome == "matched")
        n_new = len(matched.sounds)
        result.rows_in = n_posts
        result.rows_out = len(matched.post_sounds)
        result.message = (f"{n_posts} posts ({matched.files} distinct files): {n_matched} matched a known sound, "
                          f"{n_new} new sounds, {n_posts - n_matched - n_new} too short; "
                          f"{len(matched.merges)} merges")
        return result
