"""The whole product on the small sample world: build it, run the DAG through Airflow for every day, score.

This is `make demo` in miniature: real music and speech, three export formats, bad input, late arrivals.
"""

from __future__ import annotations

import json

import duckdb
import pytest

from tests.conftest import SMALL_WORLD, exclusive, render_cache_lock

pytestmark = pytest.mark.slow


def test_small_world_runs_end_to_end_and_is_scored(airflow_db, tmp_path, monkeypatch):
    from pipelines.accuracy import evaluate_warehouse, write_report
    from pipelines.airflow_runner import run_days
    from pipelines.sample_world.world import build_world
    from pipelines.settings import landing_days

    world = tmp_path / "world"
    # the world tests/sample_world reads; whoever builds it first renders the media, later builds only link them
    with exclusive(render_cache_lock()):
        build_world(world, **SMALL_WORLD, progress=False)
    warehouse = tmp_path / "wh.duckdb"
    monkeypatch.setenv("TRENDTRACE_LANDING", str(world / "landing"))
    monkeypatch.setenv("TRENDTRACE_WAREHOUSE", str(warehouse))
    days = landing_days()
    assert len(days) >= 5

    outcomes = run_days(days)
    assert [o.problem for o in outcomes] == [None] * len(days)

    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        exported = sum(
            1 for f in (world / "landing").glob("dt=*/*") if f.is_file() and f.suffix in (".json", ".jsonl", ".csv")
        )
        assert exported >= 3
        posts, quarantined = con.execute(
            "SELECT (SELECT count(*) FROM posts), (SELECT count(*) FROM quarantine)"
        ).fetchall()[0]
        report = evaluate_warehouse(con, world)
    finally:
        con.close()
    assert posts > 50 and quarantined >= 1
    relations = {r["relation"]: r for r in report["relations"]}
    assert set(relations) >= {"stitch", "duet", "sound_reuse", "reupload"}
    # a reuse names its sound's platform id: metadata alone gets most of them, and so must we
    assert relations["sound_reuse"]["recall"] is not None and relations["sound_reuse"]["recall"] >= 0.9
    assert relations["sound_reuse"]["precision"] >= 0.9
    target = tmp_path / "evaluation.json"
    write_report(report, target)
    assert json.loads(target.read_text())["sound_identity"]["ours"]["posts"] > 0
