"""match_sounds' first pass as mapped shards (pipelines/stages/match_shards.py), on the small sample world's real
media and a real DuckDB file: the day matched through a plan, shards run in any order on read-only connections
and the writer gives the same warehouse as the day matched in one process (`match_sounds.run`), table by table.

Chunks of 4 files (instead of 64) give the day's ~15 files four chunks, cut into shards of at most two.
"""

from __future__ import annotations

from datetime import date

import pytest

from pipelines import digest
from pipelines.matching import engine
from pipelines.stages import fingerprint, ingest, match_sounds, match_shards, validate

CHUNK = 4
# appended per run (one row per stage run): the only table the two ways of matching the day must differ in
EXCLUDED = {"pipeline_runs"}


@pytest.fixture(scope="module")
def prepared(small_world, tmp_path_factory):
    """The small world's first three days up to fingerprint, the first two matched."""
    world, _ = small_world
    days = sorted(date.fromisoformat(p.name.removeprefix("dt=")) for p in (world / "landing").glob("dt=*"))[:3]
    mp = pytest.MonkeyPatch()
    warehouse = tmp_path_factory.mktemp("match_shards") / "w.duckdb"
    mp.setenv("TRENDTRACE_LANDING", str(world / "landing"))
    mp.setenv("TRENDTRACE_WAREHOUSE", str(warehouse))
    mp.setenv("TRENDTRACE_MATCH_FILES_PER_SHARD", str(2 * CHUNK))
    mp.setattr(engine, "CHUNK", CHUNK)
    for day in days:
        for stage in (ingest, validate, fingerprint):
            stage.run(day, "t")
        if day != days[-1]:
            match_sounds.run(day, "t")
    yield warehouse, days[-1]
    mp.undo()


def _digests(warehouse) -> dict:
    return {t: d for t, d in digest.table_digests(warehouse).items() if t not in EXCLUDED}


def test_shards_in_any_order_give_the_one_process_day(prepared):
    warehouse, day = prepared
    assert match_sounds.run(day, "one-process").status == "success"
    one_process = _digests(warehouse)
    assert one_process["post_sounds"].rows > 0

    shards = match_shards.plan_day(day)
    assert len(shards) >= 2 and all(s["start"] % CHUNK == 0 for s in shards)  # whole chunks, never cut
    assert all(s["files"] <= 2 * CHUNK for s in shards)
    # the plan forgot the day's matching (committed), so the shards read the index as it was before the day
    assert _digests(warehouse)["post_sounds"] != one_process["post_sounds"]
    results = [match_shards.run_shard(s) for s in reversed(shards)]
    assert sum(r["matches"] for r in results) > 0
    assert match_shards.run_shard(shards[0])["skipped"]  # a retry of a finished shard redoes nothing
    result = match_sounds.run_load(day, "mapped", shards)
    assert result.status == "success" and "run here again" not in result.message
    assert digest.differences(one_process, _digests(warehouse)) == []
    assert not match_shards.day_dir(day).exists()  # scratch removed once committed


def test_a_shard_that_does_not_fit_is_run_by_the_writer(prepared):
    """An output missing (or planned against another index) is never loaded: the writer runs the first pass."""
    warehouse, day = prepared
    match_sounds.run(day, "one-process")
    one_process = _digests(warehouse)
    shards = match_shards.plan_day(day)
    for s in shards[1:]:
        match_shards.run_shard(s)
    result = match_sounds.run_load(day, "mapped", shards)
    assert "run here again" in result.message
    assert digest.differences(one_process, _digests(warehouse)) == []


def test_a_shard_refuses_an_index_changed_since_the_plan(prepared):
    warehouse, day = prepared
    shards = match_shards.plan_day(day)
    match_sounds.run(day, "meanwhile")  # indexes the day's new sounds: not the index the shards were planned for
    with pytest.raises(ValueError, match="changed since match_plan"):
        match_shards.run_shard(shards[0])
