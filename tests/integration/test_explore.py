"""The analyst surface on a real warehouse (the small sample world through the DAG): the marts agree with the
tables they summarise, the CLI reads the published copy (tables, --json, --csv, unknown ids, read-only SQL),
and the published copy leaves the match index out and opens in a DuckDB 1.x client."""

from __future__ import annotations

import csv
import io
import json
import shutil
import subprocess
from datetime import date

import duckdb
import pytest
from typer.testing import CliRunner

from pipelines.cli import app
from tests.support.analyst_world import AnalystWorld, small_world_warehouse
from tests.support.db import query

# one worker runs both analyst-world modules, so the world is built once per test run
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("analyst_world")]
runner = CliRunner()


@pytest.fixture(scope="module")
def world(airflow_db) -> AnalystWorld:
    return small_world_warehouse()


def _cli(world: AnalystWorld, *args: str):
    return runner.invoke(app, [*args, "--db", str(world.published)])


# ------------------------------------------------------------------------------------------------------- marts


def test_cascade_tree_has_every_post_of_every_cascade(world):
    sizes = dict(query(world.published, "SELECT root_post_id, size FROM cascades"))
    nodes = dict(query(world.published, "SELECT root_post_id, count(*) FROM v_cascade_tree GROUP BY 1"))
    assert nodes == sizes and sum(sizes.values()) == query(world.published, "SELECT count(*) FROM posts "
                                                          "WHERE post_id IN (SELECT post_id FROM lineage_paths)")[0][0]
    # every non-root node carries its link's evidence, every root none
    bad = query(world.published, """SELECT post_id FROM v_cascade_tree
                                    WHERE (parent_post_id IS NULL) <> (evidence IS NULL)""")
    assert bad == []


def test_top_sounds_rank_by_new_creators_and_track_rank_change(world):
    days = [d for (d,) in query(world.published, "SELECT DISTINCT day FROM sound_daily ORDER BY 1")]
    assert len(days) >= 3
    for day in days:
        ranked = query(world.published, "SELECT rank, new_creators, sound_id, prev_rank, rank_change FROM v_top_sounds "
                                        "WHERE day = ? ORDER BY rank", [day])
        assert [r[0] for r in ranked] == list(range(1, len(ranked) + 1))
        assert [r[1] for r in ranked] == sorted((r[1] for r in ranked), reverse=True)
        before = dict(query(world.published, "SELECT sound_id, rank FROM v_top_sounds WHERE day = ? - 1", [day]))
        for rank, _creators, sound_id, prev_rank, change in ranked:
            assert prev_rank == before.get(sound_id)
            assert change == (None if prev_rank is None else prev_rank - rank)


def test_sound_origin_names_the_first_duet_and_stitch(world):
    origins = query(world.published, """SELECT sound_id, origin_author, first_duet_post_id, first_stitch_post_id,
                                               n_creators, days_to_spark FROM v_sound_origin""")
    assert origins and any(o[2] for o in origins) and any(o[3] for o in origins)
    for sound_id, _author, duet, _stitch, n_creators, _ in origins:
        if duet:
            (relation, sound), = query(world.published, """SELECT lp.relation, coalesce(s.merged_into, lp.sound_id)
                FROM lineage_paths lp JOIN sounds s ON s.sound_id = lp.sound_id WHERE post_id = ?""", [duet])
            assert (relation, sound) == ("duet", sound_id)
        last = query(world.published, "SELECT cum_creators FROM sound_daily WHERE sound_id = ? ORDER BY day DESC "
                                      "LIMIT 1", [sound_id])
        if last:
            assert last[0][0] == n_creators


def test_sound_versions_count_every_primary_post_once(world):
    per_sound = dict(query(world.published, "SELECT sound_id, sum(n_posts) FROM v_sound_versions GROUP BY 1"))
    primary = dict(query(world.published, """SELECT sound_id, count(*) FROM post_sounds WHERE role = 'primary'
                                             AND post_id IN (SELECT post_id FROM posts) GROUP BY 1"""))
    assert per_sound == primary
    kinds = {k for (k,) in query(world.published, "SELECT DISTINCT version FROM v_sound_versions")}
    assert {"original", "reupload", "speed/edit variant"} <= kinds


# --------------------------------------------------------------------------------------------------------- CLI


def test_sounds_top_json_csv_and_table(world):
    result = _cli(world, "sounds", "top", "--json", "--n", "5")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    latest = query(world.published, "SELECT max(day) FROM sound_daily")[0][0]
    assert doc["day"] == latest.isoformat()
    expected = query(world.published, "SELECT sound_id FROM v_top_sounds WHERE day = ? ORDER BY rank LIMIT 5", [latest])
    assert [s["sound_id"] for s in doc["sounds"]] == [e[0] for e in expected]

    result = _cli(world, "sounds", "top", "--csv", "--day", "2024-03-02", "--stage", "spark")
    assert result.exit_code == 0, result.output
    records = list(csv.DictReader(io.StringIO(result.stdout)))
    assert records and {r["stage"] for r in records} == {"spark"}

    result = _cli(world, "sounds", "top", "--day", "2024-03-02")
    assert result.exit_code == 0 and "Top sounds on 2024-03-02" in result.stdout

    result = _cli(world, "sounds", "top", "--stage", "viral")
    assert result.exit_code != 0 and "moment, spark, trend, movement" in result.output


def test_sound_profile_and_unknown_sound(world):
    (sound_id, creators), = query(world.published, """SELECT sound_id, cum_creators FROM sound_daily
        ORDER BY cum_creators DESC, sound_id, day DESC LIMIT 1""")
    result = _cli(world, "sound", sound_id, "--json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    days = query(world.published, "SELECT day FROM sound_daily WHERE sound_id = ? ORDER BY day", [sound_id])
    assert [r["day"] for r in doc["timeline"]] == [d.isoformat() for (d,) in days]
    assert doc["timeline"][-1]["cum_creators"] == creators
    assert doc["origin"]["origin_post_id"] == query(world.published, "SELECT origin_post_id FROM sounds "
                                                                     "WHERE sound_id = ?", [sound_id])[0][0]
    assert doc["cascades"] and doc["versions"]

    text = _cli(world, "sound", sound_id.removeprefix("snd-"))  # the prefix may be left out
    assert text.exit_code == 0 and "Stage history" in text.stdout and "Biggest cascades" in text.stdout

    typo = sound_id[:-3]
    result = _cli(world, "sound", typo)
    assert result.exit_code == 2
    assert f"no sound '{typo}'" in result.output and sound_id in result.output  # the closest match is suggested


def test_a_merged_sound_id_leads_to_its_canonical_sound(world):
    merged = query(world.published, "SELECT sound_id, merged_into FROM sounds WHERE merged_into IS NOT NULL LIMIT 1")
    if not merged:
        pytest.skip("this world merged no sounds")
    (sound_id, into), = merged
    result = _cli(world, "sound", sound_id, "--json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert (doc["sound_id"], doc["asked_for"]) == (into, sound_id)
    assert any(v["version"] == "merged sound" and v["heard_as_sound_id"] == sound_id for v in doc["versions"]) or \
        not query(world.published, "SELECT 1 FROM post_sounds WHERE matched_sound_id = ? AND role = 'primary'",
                  [sound_id])
    text = _cli(world, "sound", sound_id)
    assert f"({sound_id} was merged into it)" in text.stdout


def test_lineage_draws_the_whole_cascade_from_any_post(world):
    (root, size), = query(world.published, "SELECT root_post_id, size FROM cascades ORDER BY size DESC LIMIT 1")
    (leaf,), = query(world.published, "SELECT post_id FROM lineage_paths WHERE root_post_id = ? "
                                      "ORDER BY depth DESC, post_id LIMIT 1", [root])
    result = _cli(world, "lineage", leaf, "--json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["root_post_id"] == root and len(doc["nodes"]) == size
    assert all(n["evidence"]["rule"] for n in doc["nodes"] if n["parent_post_id"])

    text = _cli(world, "lineage", leaf)
    assert text.exit_code == 0
    posts = [p for (p,) in query(world.published, "SELECT post_id FROM lineage_paths WHERE root_post_id = ?", [root])]
    assert all(p in text.stdout for p in posts) and "◀ asked" in text.stdout

    collapsed = _cli(world, "lineage", leaf, "--max-nodes", "3")
    assert f"… {size - 3} more posts" in collapsed.stdout

    result = _cli(world, "lineage", leaf + "9")
    assert result.exit_code == 2 and "no post" in result.output and "closest" in result.output


def test_query_is_read_only(world):
    before = query(world.published, "SELECT count(*) FROM posts")[0][0]
    result = _cli(world, "query", "DELETE FROM sounds")
    assert result.exit_code == 2 and "read-only" in result.output
    assert query(world.published, "SELECT count(*) FROM posts")[0][0] == before

    result = _cli(world, "query", "SELECT stage, count(*) AS n FROM sound_daily GROUP BY 1 ORDER BY 1", "--csv")
    assert result.exit_code == 0
    got = {r["stage"]: int(r["n"]) for r in csv.DictReader(io.StringIO(result.stdout))}
    assert got == dict(query(world.published, "SELECT stage, count(*) FROM sound_daily GROUP BY 1"))

    result = _cli(world, "query", "SELECT * FROM no_such_table")
    assert result.exit_code == 2 and "no_such_table" in result.output


def test_commands_have_help():
    for args in (["sounds", "top"], ["sound"], ["lineage"], ["query"]):
        result = runner.invoke(app, [*args, "--help"])
        assert result.exit_code == 0 and "--json" in result.output and "--csv" in result.output


# ----------------------------------------------------------------------------------------------- published copy


def test_published_copy_has_the_analyst_tables_and_no_index(world):
    tables = {t for (t,) in query(world.published, "SELECT table_name FROM duckdb_tables()")}
    views = {v for (v,) in query(world.published, "SELECT view_name FROM duckdb_views() WHERE NOT internal")}
    assert {"sounds", "post_sounds", "lineage_edges", "cascades", "sound_daily", "alerts"} <= tables
    assert {"posts", "quarantine"} <= views  # over validated_posts and the per-stage quarantine tables
    assert not tables & {"match_postings", "match_landmark_postings", "match_triplet_postings",
                         "match_audio_landmarks", "audio_peaks", "stg_posts"}
    assert {"v_top_sounds", "v_sound_timeline", "v_sound_origin", "v_cascade_tree", "v_sound_versions"} <= views
    for table in ("posts", "post_sounds", "lineage_edges", "cascades", "sound_daily"):
        assert query(world.published, f"SELECT count(*) FROM {table}") == query(world.warehouse,
                                                                               f"SELECT count(*) FROM {table}")
    (n_columns, n_commented), = query(world.published, """SELECT count(*), count(comment) FROM duckdb_columns()
                                                           WHERE table_name IN ('v_sound_origin', 'posts')""")
    assert n_columns == n_commented > 20  # comments travel with the copy


def test_publish_replaces_the_copy_while_a_reader_has_it_open(world, tmp_path, monkeypatch):
    from pipelines.stages import publish

    warehouse = tmp_path / "wh" / "trendtrace.duckdb"
    warehouse.parent.mkdir()
    shutil.copyfile(world.warehouse, warehouse)
    monkeypatch.setenv("TRENDTRACE_WAREHOUSE", str(warehouse))
    publish.run(date(2024, 3, 5))
    target = publish.published_path(warehouse)
    reader = duckdb.connect(str(target), read_only=True, config={"threads": 1})  # its own instance
    try:
        before = reader.execute("SELECT count(*) FROM posts").fetchall()[0][0]
        with duckdb.connect(str(warehouse)) as writer:
            writer.execute("DELETE FROM validated_posts WHERE post_id = (SELECT min(post_id) FROM posts)")
        publish.run(date(2024, 3, 5))
        assert reader.execute("SELECT count(*) FROM posts").fetchall()[0][0] == before  # still its snapshot
    finally:
        reader.close()
    assert query(target, "SELECT count(*) FROM posts")[0][0] == before - 1
    assert not target.with_suffix(".duckdb.tmp").exists()
    report = publish.report_path(date(2024, 3, 5), warehouse)  # publish writes the day's report beside the copy
    assert report.exists() and "trendtrace daily report — 2024-03-05" in report.read_text(encoding="utf-8")


def _duckdb_1x() -> list[str]:
    """The DuckDB 1.5.6 CLI from PyPI through uv (cached after the first run)."""
    uv = shutil.which("uv")
    if uv is None:
        pytest.skip("uv is not on PATH")
    cmd = [uv, "tool", "run", "--from", "duckdb-cli==1.5.6", "duckdb"]
    probe = subprocess.run([*cmd, "-c", "SELECT version()"], check=False, capture_output=True, text=True, timeout=600)
    if probe.returncode != 0:
        pytest.skip(f"duckdb-cli 1.5.6 not available: {probe.stderr[-300:]}")
    assert "v1.5.6" in probe.stdout
    return cmd


def test_published_copy_opens_in_duckdb_1_5(world):
    cmd = _duckdb_1x()
    sql = ("SELECT (SELECT count(*) FROM posts) AS posts, (SELECT count(*) FROM v_top_sounds) AS top, "
           "(SELECT comment FROM duckdb_columns() WHERE table_name = 'v_top_sounds' AND column_name = 'rank') AS c")
    result = subprocess.run([*cmd, "-readonly", "-json", str(world.published), "-c", sql],
                            check=False, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    (row,) = json.loads(result.stdout)
    assert row["posts"] == query(world.warehouse, "SELECT count(*) FROM posts")[0][0]
    assert row["top"] == query(world.warehouse, "SELECT count(*) FROM sound_daily")[0][0]
    assert row["c"] == "1 = most new creators that day."
    # the live warehouse (DuckDB 2's own format) is what 1.x refuses
    live = subprocess.run([*cmd, "-readonly", str(world.warehouse), "-c", "SELECT 1"],
                          check=False, capture_output=True, text=True, timeout=300)
    assert live.returncode != 0 and "version number" in live.stderr + live.stdout
