"""Every collection tool's export in one partition, read by the real ingest → validate → fingerprint stages
into a real DuckDB file: records in = posts + quarantine per tool, ids exact, media found where each tool
puts it, a schema-drifted file quarantined without sinking the day, and a rerun after the fix loads it."""

from __future__ import annotations

import json
from collections import Counter

import duckdb
import pytest
from typer.testing import CliRunner

from pipelines import warehouse as wh
from pipelines.stages import TASKS, fingerprint, ingest, validate
from tests.fixtures import tool_exports
from tests.fixtures.tool_exports import DAY


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    return tool_exports.build(tmp_path_factory.mktemp("tools"))


@pytest.fixture
def env(built, tmp_path, monkeypatch):
    monkeypatch.setenv("TRENDTRACE_LANDING", str(built.root))
    warehouse = tmp_path / "wh.duckdb"
    monkeypatch.setenv("TRENDTRACE_WAREHOUSE", str(warehouse))
    return built, warehouse


def run_day(run_id: str) -> list[dict]:
    return [stage.run(DAY, run_id).as_dict() for stage in (ingest, validate, fingerprint)]


def read_back(warehouse):
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        posts = con.execute("SELECT source_file, source_record, post_id, media_path FROM posts").fetchall()
        formats = dict(con.execute("SELECT post_id, source_format FROM stg_posts").fetchall())
        quarantine = con.execute(
            "SELECT source_file, source_record, rule, stage, source_format, field, reason, raw FROM quarantine"
        ).fetchall()
        run = con.execute(
            "SELECT status, rows_in, message FROM pipeline_runs WHERE task = 'ingest' ORDER BY finished_at DESC"
        ).fetchone()
    finally:
        con.close()
    return posts, formats, quarantine, run


def test_each_tool_loads_with_exact_ids_and_one_drifted_file_does_not_sink_the_day(env):
    land, warehouse = env
    results = run_day("tools-1")
    assert [r["status"] for r in results] == ["success"] * 3, results
    posts, formats, quarantine, (status, rows_in, message) = read_back(warehouse)

    want_posts = sorted((e.source_file, e.record, e.post_id) for e in land.expected if e.rule is None)
    assert sorted((f, r, p) for f, r, p, _ in posts) == want_posts
    want_q = sorted((e.source_file, e.record, e.rule) for e in land.expected if e.rule)
    assert sorted((f, r, rule) for f, r, rule, *_ in quarantine) == want_q
    # records in = posts + quarantine, per tool (format) and in total
    assert rows_in == len(land.expected) == len(posts) + len(quarantine)
    by_format = Counter(e.fmt for e in land.expected if e.rule is None)
    assert Counter(formats[p] for _, _, p, _ in posts) == by_format
    assert set(formats.values()) == {"tiktok_web", "zeeschuimer_ndjson", "fourcat_csv", "zeeschuimer_csv",
                              "ytdlp_info_json", "apify_json", "apify_csv", "research_api", "research_api_early"}
    # media where each tool puts it: yt-dlp beside its info file, Apify by its own naming, others media/<id>
    media = {p: m for _, _, p, m in posts}
    assert media["7380000000000000301"] == "dance challenge #fyp [7380000000000000301].mp4"
    assert media["7380000000000000401"] == "video-ivan-20240610130000-7380000000000000401.mp4"
    assert media["7380000000000000101"] == "media/7380000000000000101.m4a"
    assert all(media.values())
    # the early Research API shape has no username: it loads with author NULL (a web item without one did not)
    con = duckdb.connect(str(warehouse), read_only=True)
    assert con.execute("SELECT author FROM posts WHERE post_id = '7380000000000000601'").fetchall() == [(None,)]
    con.close()
    # the drifted file: each record one row, raw kept, reason names field and format; the day is degraded
    drift = [q for q in quarantine if q[2] == "schema_drift"]
    assert len(drift) == 3 and all(q[4] == "fourcat_csv" and q[5] == "timestamp" for q in drift)
    assert all("'timestamp'" in q[6] and "fourcat_csv" in q[6] and ",738000000000000070" in q[7]
               for q in drift)
    assert status == "success" and message.startswith("degraded: schema drift in 1 file(s): tiktok-search-drifted.csv")
    assert "orphan_media: " in message and "media/7389999999999999999.m4a" in message

    con = duckdb.connect(str(warehouse), read_only=True)
    degraded = dict(con.execute(wh.sql_text("status/degraded_days"), {"tasks": list(TASKS)}).fetchall())
    orphans = con.execute(wh.sql_text("status/orphan_media")).fetchall()
    summary = con.execute(wh.sql_text("status/daily_summary")).fetchall()
    con.close()
    assert "schema drift: tiktok-search-drifted.csv (fourcat_csv lacks timestamp)" in degraded[DAY]
    assert "vendor_sheet.csv (unknown_format)" in degraded[DAY]
    assert orphans and "media/7389999999999999999.m4a" in orphans[0][1]
    (day, records_in, n_posts, n_re_observed, n_quarantined, _fp) = summary[0]
    assert (day, records_in, n_posts + n_re_observed + n_quarantined) == (DAY, len(land.expected), len(land.expected))


def test_rerun_after_fixing_the_drifted_file_loads_its_records(env, tmp_path):
    land, warehouse = env
    drifted = land.partition / "tiktok-search-drifted.csv"
    original = drifted.read_text()
    run_day("tools-a")
    try:
        # the fix: the export is redone with its time column
        rows = [tool_exports.fourcat_row(tool_exports.web_item(
            f"738000000000000070{k}", "lou", tool_exports.epoch(17, k), "drift", "7380000000000009001", "A"))
            for k in range(3)]
        drifted.write_text(tool_exports.csv_text(rows, ","))
        assert [r["status"] for r in run_day("tools-b")] == ["success"] * 3
        posts, _formats, quarantine, (_, _, message) = read_back(warehouse)
    finally:
        drifted.write_text(original)
    loaded = {p for f, _, p, _ in posts if f == "tiktok-search-drifted.csv"}
    assert loaded == {"7380000000000000700", "7380000000000000701", "7380000000000000702"}
    assert not [q for q in quarantine if q[2] == "schema_drift"]
    assert not message.startswith("degraded") and "7380000000000000700" not in message.split("orphan_media")[-1]


def test_ytdlp_next_to_tiktok_api_loads_both(tmp_path, monkeypatch):
    """The issue's failing case: a yt-dlp info file (count columns shared with the Research API) beside a
    TikTok-Api file in one partition; before, the yt-dlp file failed the whole day as schema drift."""
    land = tool_exports.build(tmp_path / "l")
    for path in land.partition.iterdir():
        if path.is_file() and not (path.name.startswith("dance challenge") or path.name == "tiktokapi_videos.jsonl"):
            path.unlink()
    monkeypatch.setenv("TRENDTRACE_LANDING", str(land.root))
    monkeypatch.setenv("TRENDTRACE_WAREHOUSE", str(tmp_path / "wh.duckdb"))
    assert [r["status"] for r in run_day("pair")] == ["success"] * 3
    posts, formats, quarantine, _ = read_back(tmp_path / "wh.duckdb")
    assert sorted(formats[p] for _, _, p, _ in posts) == ["tiktok_web", "tiktok_web", "ytdlp_info_json"]
    assert not [q for q in quarantine if q[3] == "ingest"]


def test_formats_and_inspect_commands_write_nothing(built, tmp_path, monkeypatch):
    from pipelines.cli import app

    monkeypatch.setenv("TRENDTRACE_WAREHOUSE", str(tmp_path / "none.duckdb"))
    runner = CliRunner()
    listed = runner.invoke(app, ["formats"])
    assert listed.exit_code == 0, listed.output
    for name in ("zeeschuimer_ndjson", "ytdlp_info_json", "apify_csv", "fourcat_csv", "extractor_key"):
        assert name in listed.output
    before = sorted(p.name for p in built.partition.rglob("*"))
    target = built.partition / "dance challenge #fyp [7380000000000000301].info.json"
    shown = runner.invoke(app, ["inspect", str(target)])
    assert shown.exit_code == 0, shown.output
    assert "read by ytdlp_info_json" in shown.output
    assert "research_api" in shown.output and "refused" in shown.output
    assert "7380000000000000301" in shown.output
    vendor = runner.invoke(app, ["inspect", str(built.partition / "vendor_sheet.csv")])
    assert "read by no format" in vendor.output and "unknown_format" in vendor.output
    assert sorted(p.name for p in built.partition.rglob("*")) == before
    assert not (tmp_path / "none.duckdb").exists()
    json.dumps(before)  # names with '#', '[' and spaces survive


def test_edges_the_tools_data_supports_are_found(env):
    """Through match_sounds and link_lineage: the web export's duet id links the duet to its parent, and every
    other post playing the same audio, whatever tool wrote it and whatever music id (or none) it carries, is one
    sound linked back to the earliest post playing it."""
    from pipelines.stages import link_lineage, match_sounds

    land, warehouse = env
    for stage in (ingest, validate, fingerprint, match_sounds, link_lineage):
        assert stage.run(DAY, "tools-edges").status == "success", stage.__name__
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        primary = dict(con.execute(
            "SELECT post_id, sound_id FROM post_sounds WHERE role = 'primary'").fetchall())
        posts = dict(con.execute("SELECT post_id, audio_sha256 FROM posts").fetchall())
        edges = {c: (p, rel, json.loads(ev)) for c, p, rel, ev in con.execute(
            "SELECT child_post_id, parent_post_id, relation, evidence FROM lineage_edges").fetchall()}
        first = con.execute("SELECT post_id FROM posts ORDER BY created_at, post_id LIMIT 1").fetchall()[0][0]
    finally:
        con.close()
    assert first == "7380000000000000001"
    song = posts[first]
    same_audio = sorted(p for p, sha in posts.items() if sha == song)
    assert len(same_audio) >= 8 and {f for f, _ in Counter(
        e.fmt for e in land.expected if e.rule is None and e.post_id in same_audio).items()} >= {
        "tiktok_web", "zeeschuimer_ndjson", "fourcat_csv", "zeeschuimer_csv", "apify_json", "research_api",
        "research_api_early"}
    # one sound for the audio, whatever the tools' music ids say (9001, 9002, 9003, none)
    assert {primary[p] for p in same_audio} == {primary[first]}
    # the duet id of the web export: a duet of its parent, with that evidence
    parent, relation, evidence = edges["7380000000000000002"]
    assert (parent, relation) == ("7380000000000000001", "duet")
    assert "7380000000000000001" in json.dumps(evidence)
    # every later post of the audio links back into the sound's tree, none to a post created after it
    created = {e.post_id: i for i, e in enumerate(land.expected)}
    for post in same_audio:
        if post == first:
            assert post not in edges
            continue
        assert post in edges, f"{post} ({created.get(post)}) has no lineage edge"
        assert primary[edges[post][0]] == primary[first]
