"""ingest → validate → fingerprint on a real two-day landing zone with every kind of bad input.

No Airflow here (the DAG test runs the same stages through Airflow): this pins down what happens to each
record, and that reruns replace rather than append.
"""

from __future__ import annotations

import duckdb
import pytest

from pipelines.stages import fingerprint, ingest, validate
from tests.support import landing as landing_builder

STAGES = (ingest, validate, fingerprint)


@pytest.fixture(scope="module")
def built_landing(tmp_path_factory):
    return landing_builder.build(tmp_path_factory.mktemp("landing"))


@pytest.fixture
def env(built_landing, tmp_path, monkeypatch):
    monkeypatch.setenv("TRENDTRACE_LANDING", str(built_landing.root))
    warehouse = tmp_path / "wh.duckdb"
    monkeypatch.setenv("TRENDTRACE_WAREHOUSE", str(warehouse))
    return built_landing, warehouse


def run_day(day):
    return [stage.run(day, f"test-{day}").as_dict() for stage in STAGES]


def snapshot(warehouse):
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        posts = con.execute("SELECT post_id, ingest_day, source_file, source_record FROM posts ORDER BY ALL").fetchall()
        quarantine = con.execute(
            "SELECT ingest_day, stage, source_file, source_record, rule FROM quarantine ORDER BY ALL"
        ).fetchall()
        fingerprints = con.execute(
            "SELECT audio_sha256, len(fingerprint), duration_s FROM audio_fingerprints ORDER BY ALL"
        ).fetchall()
        checks = con.execute("SELECT count(*) FROM media_checks").fetchone()[0]
    finally:
        con.close()
    return posts, quarantine, fingerprints, checks


def test_every_record_ends_where_it_should(env):
    land, warehouse = env
    for day in (landing_builder.DAY1, landing_builder.DAY2):
        results = run_day(day)
        assert [r["status"] for r in results] == ["success"] * 3, results
    posts, quarantine, fingerprints, _ = snapshot(warehouse)

    want_posts = sorted(
        (e.post_id, e.day, e.source_file, e.record) for e in land.expected if e.rule is None and not e.reobserved
    )
    assert posts == want_posts
    want_q = sorted((e.day, e.stage, e.source_file, e.record, e.rule) for e in land.expected if e.rule)
    assert quarantine == want_q
    # a re-observation (same id in a later collection) keeps the first collection's posts row; its counters are
    # kept per collection day in post_stats
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        stats = con.execute("SELECT post_id, collected_day, source_file, source_record FROM post_stats").fetchall()
    finally:
        con.close()
    reobserved = [e for e in land.expected if e.reobserved]
    assert reobserved and all((e.post_id, e.day, e.source_file, e.record) in stats for e in reobserved)
    # nothing lost: every input record is a new post, a re-observation or a quarantine row, exactly one of them
    assert len(posts) + len(reobserved) + len(quarantine) == len(land.expected)
    # identical bytes are fingerprinted once
    assert len(fingerprints) == sum(land.distinct_good_audio.values())
    # Chromaprint gives ~8.07 items per second after its first ~2.6 s
    for _, n, seconds in fingerprints:
        assert 1 <= n <= seconds * 8.1 and n >= (seconds - 3.0) * 7.5, (n, seconds)


def test_each_stage_replaces_only_its_own_table(env):
    """validate never deletes fingerprint's rejections, fingerprint never deletes validate's posts; the views
    posts and quarantine account for every record exactly once even between a validate rerun and fingerprint."""
    land, warehouse = env
    for day in (landing_builder.DAY1, landing_builder.DAY2):
        run_day(day)
    first = snapshot(warehouse)

    def owned(path):
        con = duckdb.connect(str(path), read_only=True)
        try:
            return {t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
                    for t in ("validated_posts", "ingest_quarantine", "validate_quarantine", "fingerprint_quarantine")}
        finally:
            con.close()

    tables = owned(warehouse)
    rejected_by_media = sum(1 for e in land.expected if e.stage == "fingerprint")
    assert tables["fingerprint_quarantine"] == rejected_by_media > 0
    # validate keeps the posts fingerprint rejected: the view leaves them out
    assert tables["validated_posts"] == len(first[0]) + rejected_by_media

    validate.run(landing_builder.DAY1, "validate-only")  # fingerprint not rerun yet
    assert owned(warehouse) == tables
    assert snapshot(warehouse) == first  # posts and quarantine as analysts see them: unchanged


def test_reasons_name_file_line_and_field(env):
    _land, warehouse = env
    run_day(landing_builder.DAY1)
    con = duckdb.connect(str(warehouse), read_only=True)
    rows = {r[0]: r[1:] for r in con.execute(
        "SELECT rule, source_file, source_line, field, reason, raw FROM quarantine"
    ).fetchall()}
    con.close()
    src, line, field, reason, raw = rows["malformed_json"]
    assert (src, line) == ("items.jsonl", 3) and "items.jsonl" in reason and "3" in reason
    assert raw.startswith('{"id": "7300000000000000003"')  # the bad line is kept whole
    src, line, field, reason, raw = rows["created_at_not_future"]
    assert field == "created_at" and "items.jsonl line 7" in reason and "2024-03-04" in reason
    assert "created up to 2024-03-02 23:59" in reason
    src, line, field, reason, raw = rows["media_not_silent"]
    assert src == "research.json" and field == "media_path" and "peak" in reason
    assert '"username": "grace"' in raw
    _, _, field, reason, _ = rows["media_decodes"]
    assert "export.csv line 4" in reason
    _, _, field, reason, _ = rows["unknown_format"]
    assert "notes.txt" in reason


def test_media_outside_partition_is_refused_not_read(env):
    _land, warehouse = env
    run_day(landing_builder.DAY1)
    con = duckdb.connect(str(warehouse), read_only=True)
    reasons = [r[0] for r in con.execute(
        "SELECT reason FROM quarantine WHERE rule = 'media_file' AND post_id = '7300000000000000202'").fetchall()]
    hashed = con.execute("SELECT count(*) FROM posts WHERE media_path LIKE '%etc/passwd%'").fetchone()[0]
    con.close()
    assert len(reasons) == 1 and "outside" in reasons[0] and "../../etc/passwd" in reasons[0]
    assert hashed == 0


def test_rerun_is_idempotent_and_resumable(env):
    _land, warehouse = env
    for day in (landing_builder.DAY1, landing_builder.DAY2):
        run_day(day)
    first = snapshot(warehouse)
    # rerun day 1 completely, then only day 2's fingerprint stage: nothing doubles, nothing is re-decoded
    run_day(landing_builder.DAY1)
    fingerprint.run(landing_builder.DAY2, "again")
    assert snapshot(warehouse) == first
    con = duckdb.connect(str(warehouse), read_only=True)
    runs = con.execute("SELECT task, rows_out FROM pipeline_runs WHERE run_id = 'again'").fetchall()
    con.close()
    assert runs == [("fingerprint", 0)]


def test_ids_stay_exact_and_late_posts_land_in_their_day(env):
    _land, warehouse = env
    for day in (landing_builder.DAY1, landing_builder.DAY2):
        run_day(day)
    con = duckdb.connect(str(warehouse), read_only=True)
    research = con.execute("SELECT post_id FROM posts WHERE source_format = 'research_api'").fetchall()
    late = con.execute(
        "SELECT created_day, ingest_day FROM posts WHERE post_id = '7300000000000000304'").fetchone()
    duet = con.execute(
        "SELECT duet_from_post_id, mentions, hashtags FROM posts WHERE post_id = '7300000000000000004'").fetchone()
    con.close()
    assert research == [("7300000000000000101",)]
    assert late == (landing_builder.DAY1, landing_builder.DAY2)
    assert duet[0] == "7300000000000000001" and "alice" in duet[1] and "duet" in duet[2]


def test_schema_drift_quarantines_the_file_and_marks_the_day_degraded(pipeline_env):
    """A file whose records all lack a required field no longer fails the day: its records are quarantined
    (one schema_drift row each, raw kept), the partition's other files load, the run says it is degraded."""
    landing, warehouse = pipeline_env
    part = landing / "dt=2024-05-05"
    part.mkdir()
    drifted = '{"id": "1", "createTime": 1714900000, "desc": "a"}\n{"id": "2", "createTime": 1714900001, "desc": "b"}\n'
    (part / "drifted.jsonl").write_text(drifted)
    (part / "good.jsonl").write_text(
        '{"id": "3", "createTime": 1714900002, "desc": "c", "author": {"uniqueId": "ann"}}\n')
    from datetime import date

    result = ingest.run(date(2024, 5, 5), "drift")
    con = duckdb.connect(str(warehouse), read_only=True)
    status, message = con.execute("SELECT status, message FROM pipeline_runs WHERE run_id = 'drift'").fetchone()
    staged = con.execute("SELECT post_id FROM stg_posts").fetchall()
    rows = con.execute(
        "SELECT source_record, rule, field, source_format, raw FROM quarantine ORDER BY source_record").fetchall()
    con.close()
    assert result.status == status == "success" and result.rows_in == 3
    assert message.startswith("degraded: schema drift in 1 file(s): drifted.jsonl lacks 'author' (tiktok_web)")
    assert staged == [("3",)]
    assert rows == [(i, "schema_drift", "author", "tiktok_web", line)
                    for i, line in enumerate(drifted.splitlines())]
