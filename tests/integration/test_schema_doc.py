"""docs/schema.md is generated from the catalog and must not drift; every analyst-facing table, view and column
is documented with COMMENT ON (views included: DuckDB 2 keeps column comments on views)."""

from __future__ import annotations

import duckdb
import pytest

from pipelines import schema_doc
from pipelines.publish_copy import is_published


def test_schema_doc_is_generated_from_the_current_schema():
    expected = schema_doc.render_fresh()
    assert schema_doc.DOC_PATH.read_text(encoding="utf-8") == expected, (
        "docs/schema.md drifted from sql/schema/: run `uv run python -m pipelines.schema_doc`")
    for view in ("v_top_sounds", "v_sound_timeline", "v_sound_origin", "v_cascade_tree", "v_sound_versions"):
        assert f"## {view}\n" in expected


def test_every_published_table_view_and_column_has_a_comment(tmp_path):
    from pipelines import warehouse

    con = warehouse.connect(tmp_path / "fresh.duckdb")
    try:
        objects = con.sql("""SELECT table_name, comment FROM duckdb_tables() UNION ALL
                             SELECT view_name, comment FROM duckdb_views() WHERE NOT internal""").fetchall()
        columns = con.sql("SELECT table_name, column_name, comment FROM duckdb_columns()").fetchall()
    finally:
        con.close()
    published = {name for name, _ in objects if is_published(name)}
    assert {"v_top_sounds", "posts", "sounds", "cascades"} <= published
    assert "match_postings" not in published
    assert [name for name, comment in objects if name in published and not comment] == []
    assert [(t, c) for t, c, comment in columns if t in published and not comment] == []


def test_view_column_comments_survive_a_reconnect(tmp_path):
    """apply_schema recreates the views (CREATE OR REPLACE drops their comments) and comments them again."""
    from pipelines import warehouse

    path = tmp_path / "wh.duckdb"
    warehouse.connect(path).close()
    warehouse.connect(path).close()
    con = duckdb.connect(str(path), read_only=True)
    try:
        comment = con.execute("SELECT comment FROM duckdb_columns() WHERE table_name = 'v_top_sounds' "
                              "AND column_name = 'rank_change'").fetchall()
    finally:
        con.close()
    assert comment == [("prev_rank - rank: positive = rose that many places; NULL on the first day.",)]


def test_a_view_over_an_unpublished_table_fails_publishing_by_name(tmp_path):
    from pipelines import warehouse
    from pipelines.publish_copy import write_copy

    con = warehouse.connect(tmp_path / "wh.duckdb")
    try:
        con.execute("CREATE VIEW v_index_size AS SELECT count(*) AS n FROM match_postings")
        with pytest.raises(RuntimeError, match="view v_index_size cannot be published"):
            write_copy(con, tmp_path / "copy.duckdb")
        con.execute("DROP VIEW v_index_size")
        tables = write_copy(con, tmp_path / "copy2.duckdb")
    finally:
        con.close()
    assert "validated_posts" in tables and "match_postings" not in tables
    copy = duckdb.connect(str(tmp_path / "copy2.duckdb"), read_only=True)
    try:
        assert copy.execute("SELECT count(*) FROM v_top_sounds").fetchall() == [(0,)]
        assert copy.execute("SELECT comment FROM duckdb_views() WHERE view_name = 'v_cascade_tree'").fetchall()[0][0]
    finally:
        copy.close()


def test_every_table_and_view_names_its_defining_file_and_writer(tmp_path):
    """A newcomer can read, for any table, the one file that defines it and the one module that writes it."""
    from pipelines import warehouse
    from pipelines.schema_doc import ddl_owners

    con = warehouse.connect(tmp_path / "wh.duckdb")
    try:
        names = {n for (n,) in con.sql("SELECT table_name FROM duckdb_tables() UNION "
                                       "SELECT view_name FROM duckdb_views() WHERE NOT internal").fetchall()}
    finally:
        con.close()
    owners = ddl_owners()
    assert names - set(owners) == set()
    for name in names:
        _defined_in, filled = owners[name]
        assert (filled.startswith("written by ") and "pipelines/" in filled) or filled.startswith("view over "), (
            name, filled
        )
