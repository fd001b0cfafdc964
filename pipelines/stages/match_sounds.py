"""match_sounds: identify every sound inside every post of one ingest day, by its audio (issue 5).

The matching itself is pipelines/matching/engine.py; this stage replaces the day's rows in one transaction
(see docs/matching.md for signals, rules and tables). In the DAG its first pass runs as mapped shards
(pipelines/stages/match_shards.py) and `run_load` does the rest; `run` does all of it in one process.
"""

from __future__ import annotations

from datetime import date

import duckdb

from pipelines import settings, warehouse
from pipelines.matching import engine, tables
from pipelines.matching.profile import NO_PROFILE, Profile
from pipelines.matching.types import FirstPass
from pipelines.runlog import StageResult, stage_run
from pipelines.stages import match_shards


def run(day: date, run_id: str = "cli", profile: Profile = NO_PROFILE) -> StageResult:
    """Match ingest day `day` again from scratch, both passes in this process; `profile` times each step
    (scripts/bench_match_day.py)."""
    with stage_run("match_sounds", day, run_id) as (con, result), warehouse.transaction(con):
        _reset(con, day, profile)
        return _match_and_write(con, result, day, profile, prior=None)


def run_load(day: date, run_id: str, shards: list[dict], profile: Profile = NO_PROFILE) -> StageResult:
    """The Airflow `match_sounds` task: the first pass from the mapped shards' outputs (pipelines/stages/
    match_shards.py; run here instead if they do not fit the warehouse as it is now), then the rest of the day as
    `run` does it; the day's scratch folder is removed once the rows are committed."""
    with stage_run("match_sounds", day, run_id) as (con, result):
        with warehouse.transaction(con):
            _reset(con, day, profile)  # match_plan did it (committed); a no-op unless the day changed since
            prior = match_shards.load_prior(con, day, shards)
            _match_and_write(con, result, day, profile, prior=prior)
            if prior is None and shards:
                result.message += "; the shards' first pass did not fit the warehouse any more: run here again"
        match_shards.clean(day)
        return result


def _reset(con: duckdb.DuckDBPyConnection, day: date, profile: Profile) -> None:
    """Forget what an earlier run of the day wrote (reruns replace, never append)."""
    with profile.step("reset"):
        warehouse.run_sql(con, "match_sounds/reset_day", {"day": day})
        warehouse.run_sql(con, "match_sounds/refresh_sounds")  # merge state without this day's merges


def _match_and_write(con: duckdb.DuckDBPyConnection, result: StageResult, day: date, profile: Profile,
                     prior: FirstPass | None) -> StageResult:
    """Match the reset day (the first pass from `prior` if given) and write its rows, in the caller's
    transaction."""
    matched = engine.match_day(con, day, settings.partition_dir(day), profile, prior=prior)
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
