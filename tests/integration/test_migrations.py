"""Schema migrations on real DuckDB files: an older warehouse is upgraded with its data kept, a current one is
left alone, a fresh one records every migration, a broken migration rolls back; and every DDL file names
who fills each of its tables."""

from __future__ import annotations

import re
import shutil
from datetime import date, datetime
from pathlib import Path

import duckdb
import numpy as np
import pytest

from pipelines import migrations, warehouse
from pipelines.migrations import Migration, MigrationError

ROOT = Path(__file__).resolve().parents[2]

# The shape of the migrated tables before their migrations (the DDL text of that time, abridged to columns):
# sounds without created_post_id / audio_sha256 / created_day, sound_daily without the adoption signals,
# match_audio without the indexed-copy columns, post_sounds without pitch_semitones / edit, and no landmark
# candidate index tables at all.
OLD_DDL = """
CREATE TABLE sounds (
    sound_id        VARCHAR NOT NULL,
    origin_post_id  VARCHAR NOT NULL,
    first_seen_at   TIMESTAMP NOT NULL,
    title           VARCHAR,
    duration_s      DOUBLE,
    n_posts         BIGINT NOT NULL,
    merged_into     VARCHAR
);
CREATE TABLE sound_daily (
    sound_id      VARCHAR NOT NULL,
    day           DATE NOT NULL,
    new_posts     BIGINT NOT NULL,
    new_creators  BIGINT NOT NULL,
    cum_posts     BIGINT NOT NULL,
    cum_creators  BIGINT NOT NULL,
    growth_7d     DOUBLE,
    robust_z      DOUBLE,
    stage         VARCHAR NOT NULL
);
CREATE TABLE match_audio (
    audio_id      INTEGER NOT NULL,
    audio_sha256  VARCHAR NOT NULL,
    sound_id      VARCHAR NOT NULL,
    n_items       INTEGER NOT NULL,
    n_landmarks   INTEGER NOT NULL,
    added_day     DATE NOT NULL
);
CREATE TABLE post_sounds (
    post_id           VARCHAR NOT NULL,
    sound_id          VARCHAR NOT NULL,
    role              VARCHAR NOT NULL,
    post_start_s      DOUBLE,
    post_end_s        DOUBLE,
    sound_start_s     DOUBLE,
    sound_end_s       DOUBLE,
    speed             DOUBLE NOT NULL,
    score             DOUBLE NOT NULL,
    method            VARCHAR NOT NULL,
    matched_sound_id  VARCHAR NOT NULL,
    ingest_day        DATE NOT NULL
);
CREATE TABLE audio_peaks (
    audio_sha256  VARCHAR NOT NULL,
    frames        INTEGER[] NOT NULL,
    bins          USMALLINT[] NOT NULL,
    algorithm     VARCHAR NOT NULL,
    created_at    TIMESTAMP NOT NULL
);
INSERT INTO sounds VALUES
    ('snd-1', '1', TIMESTAMP '2024-03-01 10:00', 'original sound - a', 12.5, 3, NULL),
    ('snd-2', '2', TIMESTAMP '2024-03-02 11:00', 'original sound - b', 9.0, 0, 'snd-1');
INSERT INTO sound_daily VALUES ('snd-1', DATE '2024-03-01', 1, 1, 1, 1, NULL, NULL, 'moment');
INSERT INTO post_sounds VALUES ('2', 'snd-1', 'primary', 0, 9, 0, 11.25, 1.25, 0.4, 'landmarks_speed_pitch', 'snd-1',
                                DATE '2024-03-02');
INSERT INTO match_audio VALUES (0, 'sha-1', 'snd-1', 90, 400, DATE '2024-03-01'),
                               (1, 'sha-2', 'snd-2', 70, 300, DATE '2024-03-02');
"""
SHAPE = """SELECT table_name, column_index, column_name, data_type, is_nullable FROM duckdb_columns()
           WHERE NOT internal AND schema_name = 'main' ORDER BY ALL"""


def _columns(path: Path) -> list[tuple]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.sql(SHAPE).fetchall()
    finally:
        con.close()


def _versions(path: Path) -> list[tuple]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.sql("SELECT version, name FROM schema_migrations ORDER BY version").fetchall()
    finally:
        con.close()


def _expected_versions() -> list[tuple]:
    return [(m.version, m.name) for m in migrations.all_migrations()]


@pytest.fixture
def old_warehouse(tmp_path) -> Path:
    """A warehouse file in the shape of before the migrations, with data; one audio has stored peaks."""
    path = tmp_path / "old.duckdb"
    con = duckdb.connect(str(path))
    con.execute(OLD_DDL)
    rng = np.random.default_rng(5)
    frames = np.sort(rng.choice(4000, size=300, replace=False)).astype(np.int32).tolist()
    bins = rng.integers(5, 250, size=300).tolist()
    con.execute("INSERT INTO audio_peaks VALUES ('sha-1', $f, $b, 'peaks-1', TIMESTAMP '2024-03-01 10:05')",
                {"f": frames, "b": bins})
    con.close()
    return path


@pytest.fixture
def fresh_shape(tmp_path) -> list[tuple]:
    path = tmp_path / "fresh.duckdb"
    warehouse.connect(path).close()
    return _columns(path)


def test_old_warehouse_is_upgraded_and_keeps_its_data(old_warehouse, fresh_shape):
    con = warehouse.connect(old_warehouse)
    try:
        assert con.sql("SELECT * FROM sounds ORDER BY sound_id").fetchall() == [
            ("snd-1", "1", datetime(2024, 3, 1, 10), "original sound - a", 12.5, 3, None, None, None, None),
            ("snd-2", "2", datetime(2024, 3, 2, 11), "original sound - b", 9.0, 0, "snd-1", None, None, None),
        ]
        assert con.sql("SELECT sound_id, day, stage, creators_7d, branches FROM sound_daily").fetchall() == [
            ("snd-1", date(2024, 3, 1), "moment", None, None)]
        assert con.sql("SELECT audio_id, sound_id, via_copy_s, via_sound_s, via_speed, via_pitch FROM match_audio "
                       "ORDER BY 1").fetchall() == [(0, "snd-1", None, None, None, None),
                                                    (1, "snd-2", None, None, None, None)]
        # 0008: which edit was heard is unknown for rows written before it (NULL until their day is rerun)
        assert con.sql("SELECT post_id, speed, method, pitch_semitones, edit FROM post_sounds").fetchall() == [
            ("2", 1.25, "landmarks_speed_pitch", None, None)]
        # 0004 (Python): the candidate index exists and covers the old audio; no stored peaks -> an empty row
        landmarks = dict(con.sql("SELECT audio_id, len(hashes) FROM match_audio_landmarks").fetchall())
        assert set(landmarks) == {0, 1} and landmarks[0] > 0 and landmarks[1] == 0
        triplets = con.sql("SELECT DISTINCT audio_id FROM match_triplet_postings").fetchall()
        assert triplets == [(0,)]
    finally:
        con.close()
    assert _versions(old_warehouse) == _expected_versions()
    assert _columns(old_warehouse) == fresh_shape  # the same shape as a warehouse created today


def test_second_connect_applies_nothing(old_warehouse):
    warehouse.connect(old_warehouse).close()
    con = duckdb.connect(str(old_warehouse))
    try:
        before = con.sql("SELECT * FROM schema_migrations ORDER BY version").fetchall()

        def must_not_run(con: duckdb.DuckDBPyConnection) -> None:
            raise AssertionError("an applied migration ran again")

        again = [Migration(m.version, m.name, must_not_run, m.source) for m in migrations.all_migrations()]
        assert migrations.upgrade(con, again) == []
        assert con.sql("SELECT * FROM schema_migrations ORDER BY version").fetchall() == before
    finally:
        con.close()
    warehouse.connect(old_warehouse).close()  # the real path too
    assert _versions(old_warehouse) == _expected_versions()


def test_fresh_warehouse_records_every_migration_without_running_them(tmp_path, fresh_shape):
    def must_not_run(con: duckdb.DuckDBPyConnection) -> None:
        raise AssertionError("a fresh warehouse already has the DDL's shape")

    path = tmp_path / "new" / "trendtrace.duckdb"
    path.parent.mkdir()
    con = duckdb.connect(str(path))
    try:
        known = [Migration(m.version, m.name, must_not_run, m.source) for m in migrations.all_migrations()]
        assert migrations.upgrade(con, known) == []
        assert migrations.schema_version(con) == (known[-1].version, [])
    finally:
        con.close()
    assert _versions(path) == _expected_versions()
    assert _columns(path) == fresh_shape


def test_broken_migration_rolls_back_and_names_itself(old_warehouse):
    def broken(con: duckdb.DuckDBPyConnection) -> None:
        con.execute("ALTER TABLE sounds ADD COLUMN half_done INTEGER")
        con.execute("UPDATE sounds SET half_done = 1")
        con.execute("SELECT * FROM no_such_table")

    real = migrations.all_migrations()
    with_broken = [*real[:2], Migration(3, "broken_step", broken, "tests.broken"), *real[3:]]
    con = duckdb.connect(str(old_warehouse))
    try:
        with pytest.raises(MigrationError, match=r"0003_broken_step .*stays at schema version 2.*no_such_table"):
            migrations.upgrade(con, with_broken)
        assert con.sql("SELECT version FROM schema_migrations ORDER BY 1").fetchall() == [(1,), (2,)]
        names = [
            c for (c,) in con.sql("SELECT column_name FROM duckdb_columns() WHERE table_name = 'sounds'").fetchall()
        ]
        assert "half_done" not in names and "created_post_id" in names  # 0002 kept, 0003 undone
        assert con.sql("SELECT count(*) FROM sounds").fetchall() == [(2,)]
    finally:
        con.close()
    warehouse.connect(old_warehouse).close()  # the real migrations then finish the job
    assert _versions(old_warehouse) == _expected_versions()


def test_broken_sql_migration_fails_connect(old_warehouse, tmp_path, monkeypatch):
    expected = _expected_versions()
    folder = tmp_path / "migrations"
    shutil.copytree(migrations.MIGRATIONS_DIR, folder)
    last = expected[-1][0]
    broken = f"{last + 1:04d}_broken"
    (folder / f"{broken}.sql").write_text(
        "ALTER TABLE sounds ADD COLUMN half_done INTEGER;\nSELECT no_such_column FROM sounds;\n")
    monkeypatch.setattr(migrations, "MIGRATIONS_DIR", folder)
    with pytest.raises(MigrationError, match=rf"migration {broken} \(.*{broken}\.sql\) failed.*version {last}"):
        warehouse.connect(old_warehouse)
    # the failed connect closed its connection: the file opens again, at the last version, without the half step
    assert _versions(old_warehouse) == expected
    assert "half_done" not in {row[2] for row in _columns(old_warehouse)}


def test_warehouse_newer_than_the_code_is_refused(tmp_path):
    path = tmp_path / "wh.duckdb"
    warehouse.connect(path).close()
    con = duckdb.connect(str(path))
    con.execute("INSERT INTO schema_migrations VALUES (9999, 'from_the_future', now()::TIMESTAMP)")
    con.close()
    with pytest.raises(MigrationError, match="9999"):
        warehouse.connect(path)
    warehouse.connect(path, read_only=True).close()  # readers are not refused


def test_every_ddl_file_names_who_fills_each_table():
    """Each table a sql/schema file creates has a leading line `-- <table>: written by <module.py> (<sql>)`, and
    each view `-- <view>: view over <tables> (<their DDL files>)`, naming files that exist."""
    files = sorted((ROOT / "sql" / "schema").rglob("*.sql"))
    assert files
    for file in files:
        text = file.read_text(encoding="utf-8")
        header = []
        for line in text.splitlines():
            if not line.startswith("--"):
                break
            header.append(line)
        tables = re.findall(r"CREATE TABLE IF NOT EXISTS (\w+)", text)
        views = re.findall(r"CREATE OR REPLACE VIEW (\w+)", text)
        assert tables or views, f"{file} creates no table or view"
        for name, kind in [(t, "written by ") for t in tables] + [(v, "view over ") for v in views]:
            lines = [h for h in header if h.startswith(f"-- {name}: {kind}")]
            assert len(lines) == 1, f"{file}: no leading '-- {name}: {kind}…' line"
            modules = re.findall(r"pipelines/[\w/]+\.py", lines[0])
            statements = re.findall(r"sql/[\w/]+\.sql", lines[0])
            assert statements and (modules or kind == "view over "), (
                f"{file}: {name}'s line names no module or statement"
            )
            for ref in modules + statements:
                assert (ROOT / ref).is_file(), f"{file}: {name}'s line names {ref}, which does not exist"


def test_no_alter_left_in_the_ddl():
    """Changes to existing tables are migrations; the DDL only says what a table is."""
    for file in (ROOT / "sql" / "schema").rglob("*.sql"):
        assert "ALTER TABLE" not in file.read_text(encoding="utf-8").upper(), file


# posts and quarantine as tables written by several stages (before migration 5): fingerprint deleted post 3
# from posts and wrote its quarantine row; stg_posts still holds what ingest read.
OLD_POSTS_DDL = """
CREATE TABLE stg_posts (
    ingest_day DATE NOT NULL, source_file VARCHAR NOT NULL, source_format VARCHAR NOT NULL, source_line INTEGER,
    source_record INTEGER NOT NULL, post_id VARCHAR, author VARCHAR, created_at TIMESTAMP, created_at_raw VARCHAR,
    caption VARCHAR, platform_music_id VARCHAR, music_title VARCHAR, music_original BOOLEAN,
    duet_from_post_id VARCHAR, mentions VARCHAR[], hashtags VARCHAR[], plays BIGINT, likes BIGINT, shares BIGINT,
    comments BIGINT, duration_s DOUBLE, media_path VARCHAR, raw VARCHAR);
CREATE TABLE posts (
    post_id VARCHAR NOT NULL, author VARCHAR NOT NULL, created_at TIMESTAMP NOT NULL, created_day DATE NOT NULL,
    caption VARCHAR, platform_music_id VARCHAR, music_title VARCHAR, music_original BOOLEAN,
    duet_from_post_id VARCHAR, mentions VARCHAR[], hashtags VARCHAR[],
    stats STRUCT(plays BIGINT, likes BIGINT, shares BIGINT, comments BIGINT), duration_s DOUBLE,
    media_path VARCHAR, audio_sha256 VARCHAR, source_format VARCHAR NOT NULL, source_file VARCHAR NOT NULL,
    source_line INTEGER, source_record INTEGER NOT NULL, ingest_day DATE NOT NULL);
CREATE TABLE quarantine (
    ingest_day DATE NOT NULL, stage VARCHAR NOT NULL, source_file VARCHAR NOT NULL, source_format VARCHAR,
    source_line INTEGER, source_record INTEGER, post_id VARCHAR, field VARCHAR, rule VARCHAR NOT NULL,
    reason VARCHAR NOT NULL, violations STRUCT(rule VARCHAR, field VARCHAR, reason VARCHAR)[], raw VARCHAR,
    quarantined_at TIMESTAMP NOT NULL);
INSERT INTO stg_posts (ingest_day, source_file, source_format, source_line, source_record, post_id, author,
                       created_at, plays, media_path)
VALUES (DATE '2024-03-01', 'a.jsonl', 'tiktok_web', 1, 0, '1', 'ann', TIMESTAMP '2024-03-01 09:00', 5, 'media/1.mp4'),
       (DATE '2024-03-01', 'a.jsonl', 'tiktok_web', 2, 1, '2', 'bob', TIMESTAMP '2024-03-01 10:00', 7, 'media/2.mp4'),
       (DATE '2024-03-01', 'a.jsonl', 'tiktok_web', 3, 2, '3', 'cy', TIMESTAMP '2024-03-01 11:00', 9, 'media/3.mp4');
INSERT INTO posts (post_id, author, created_at, created_day, stats, media_path, audio_sha256, source_format,
                   source_file, source_line, source_record, ingest_day)
VALUES ('1', 'ann', TIMESTAMP '2024-03-01 09:00', DATE '2024-03-01', {'plays': 5, 'likes': NULL, 'shares': NULL,
        'comments': NULL}, 'media/1.mp4', 'sha-1', 'tiktok_web', 'a.jsonl', 1, 0, DATE '2024-03-01');
INSERT INTO quarantine (ingest_day, stage, source_file, source_line, source_record, post_id, field, rule, reason,
                        quarantined_at)
VALUES (DATE '2024-03-01', 'ingest', 'b.json', NULL, NULL, NULL, NULL, 'malformed_json', 'b.json: not JSON',
        TIMESTAMP '2024-03-01 12:00'),
       (DATE '2024-03-01', 'validate', 'a.jsonl', 2, 1, '2', 'author', 'author_present', 'a.jsonl:2 author',
        TIMESTAMP '2024-03-01 12:00'),
       (DATE '2024-03-01', 'fingerprint', 'a.jsonl', 3, 2, '3', 'media_path', 'audio_not_silent', 'a.jsonl:3 silent',
        TIMESTAMP '2024-03-01 12:00');
"""


def test_posts_and_quarantine_tables_become_views_over_one_table_per_writer(tmp_path):
    """Migration 5: what analysts see through `posts` and `quarantine` is unchanged; each stage's rows sit in
    its own table, and the post fingerprint deleted is back in validate's table (from staging)."""
    path = tmp_path / "old.duckdb"
    con = duckdb.connect(str(path))
    con.execute(OLD_POSTS_DDL)
    before_posts = con.sql("SELECT post_id, author, stats, audio_sha256 FROM posts").fetchall()
    before_quarantine = con.sql("SELECT stage, post_id, rule, reason FROM quarantine ORDER BY ALL").fetchall()
    con.close()
    con = warehouse.connect(path)
    try:
        assert con.sql("SELECT post_id, author, stats, audio_sha256 FROM posts").fetchall() == before_posts
        assert con.sql("SELECT stage, post_id, rule, reason FROM quarantine ORDER BY ALL").fetchall() \
            == before_quarantine
        kinds = dict(con.sql("SELECT table_name, table_type FROM information_schema.tables WHERE table_name IN "
                             "('posts', 'quarantine', 'validated_posts', 'fingerprint_quarantine')").fetchall())
        assert kinds == {"posts": "VIEW", "quarantine": "VIEW", "validated_posts": "BASE TABLE",
                         "fingerprint_quarantine": "BASE TABLE"}
        assert con.sql("SELECT post_id, audio_sha256 FROM validated_posts ORDER BY 1").fetchall() == [
            ("1", "sha-1"), ("3", None)]
        for stage in ("ingest", "validate", "fingerprint"):
            assert con.execute(f"SELECT count(*) FROM {stage}_quarantine").fetchall() == [(1,)]
    finally:
        con.close()
    assert _versions(path) == _expected_versions()


def test_post_stats_migration_gives_existing_posts_their_first_observation(tmp_path, fresh_shape):
    """0006: a warehouse from before post_stats (version 5) gets one post_stats row per post it holds, with the
    counters its posts row kept; the shape ends as a fresh warehouse's."""
    path = tmp_path / "v5.duckdb"
    con = warehouse.connect(path)
    con.execute(
        "INSERT INTO validated_posts (post_id, author, created_at, created_day, stats, source_format, source_file,"
        " source_line, source_record, ingest_day) VALUES "
        "('7300000000000000001', 'ann', TIMESTAMP '2024-01-05 10:00', DATE '2024-01-05',"
        " {'plays': 900, 'likes': 90, 'shares': 9, 'comments': 3}, 'tiktok_web', 'a.jsonl', 1, 0, DATE '2024-03-01'),"
        "('7300000000000000002', 'bob', TIMESTAMP '2024-03-01 11:00', DATE '2024-03-01',"
        " NULL, 'research_api', 'r.json', NULL, 0, DATE '2024-03-01')"
    )
    con.execute("DROP TABLE post_stats; DELETE FROM schema_migrations WHERE version = 6")
    con.close()
    con = warehouse.connect(path)
    try:
        assert con.sql("SELECT * FROM post_stats ORDER BY post_id").fetchall() == [
            ("7300000000000000001", date(2024, 3, 1), 900, 90, 9, 3, "tiktok_web", "a.jsonl", 1, 0),
            ("7300000000000000002", date(2024, 3, 1), None, None, None, None, "research_api", "r.json", None, 0),
        ]
    finally:
        con.close()
    assert _versions(path) == _expected_versions()
    assert _columns(path) == fresh_shape
