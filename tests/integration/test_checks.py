"""Invariant checks (sql/checks/) on real warehouses: they hold on the sample worlds, and a row that breaks one
is named, by pipelines.checks and by the check_invariants stage (which then fails)."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import duckdb
import pytest

from pipelines import checks, warehouse
from pipelines.stages import check_invariants

# A small synthetic warehouse that satisfies every invariant; real ones are checked where they are made: the DAG's
# check_invariants task runs on the small sample world in tests/integration/test_world_e2e.py.
INVARIANTS = {"merged_into_names_a_sound", "one_parent_per_child", "one_primary_sound_per_post",
              "parents_older_than_children", "paths_agree_with_edges"}

SYNTHETIC = """
INSERT INTO validated_posts (post_id, author, created_at, created_day, source_format, source_file, source_record, ingest_day)
VALUES ('p1', 'ann', TIMESTAMP '2024-03-01 08:00', DATE '2024-03-01', 'csv_export', 'x.csv', 0, DATE '2024-03-01'),
       ('p2', 'bob', TIMESTAMP '2024-03-01 09:00', DATE '2024-03-01', 'csv_export', 'x.csv', 1, DATE '2024-03-01'),
       ('p3', 'cat', TIMESTAMP '2024-03-02 09:00', DATE '2024-03-02', 'csv_export', 'y.csv', 0, DATE '2024-03-02'),
       ('p4', 'dan', TIMESTAMP '2024-03-02 10:00', DATE '2024-03-02', 'csv_export', 'y.csv', 1, DATE '2024-03-02');
INSERT INTO sounds (sound_id, origin_post_id, first_seen_at, n_posts, merged_into) VALUES
    ('snd-p1', 'p1', TIMESTAMP '2024-03-01 08:00', 3, NULL),
    ('snd-p3', 'p3', TIMESTAMP '2024-03-02 09:00', 0, 'snd-p1'),
    ('snd-p4', 'p4', TIMESTAMP '2024-03-02 10:00', 1, NULL);
INSERT INTO post_sounds (post_id, sound_id, role, speed, score, method, matched_sound_id, ingest_day) VALUES
    ('p1', 'snd-p1', 'primary', 1, 1, 'origin', 'snd-p1', DATE '2024-03-01'),
    ('p2', 'snd-p1', 'primary', 1, 0.9, 'chromaprint', 'snd-p1', DATE '2024-03-01'),
    ('p3', 'snd-p1', 'primary', 1, 0.9, 'chromaprint', 'snd-p3', DATE '2024-03-02'),
    ('p3', 'snd-p4', 'contained', 1, 0.8, 'landmarks', 'snd-p4', DATE '2024-03-02'),
    ('p4', 'snd-p4', 'primary', 1, 1, 'origin', 'snd-p4', DATE '2024-03-02');
INSERT INTO lineage_edges VALUES
    ('p2', 'p1', 'duet', 0.99, '{"rule": "duet_from_id"}', DATE '2024-03-01'),
    ('p3', 'p2', 'stitch', 0.97, '{"rule": "caption"}', DATE '2024-03-02');
INSERT INTO lineage_paths VALUES
    ('p1', 'p1', 'snd-p1', 0, ['p1'], NULL, NULL, 'ann', TIMESTAMP '2024-03-01 08:00', DATE '2024-03-01'),
    ('p2', 'p1', 'snd-p1', 1, ['p1', 'p2'], 'p1', 'duet', 'bob', TIMESTAMP '2024-03-01 09:00', DATE '2024-03-01'),
    ('p3', 'p1', 'snd-p1', 2, ['p1', 'p2', 'p3'], 'p2', 'stitch', 'cat', TIMESTAMP '2024-03-02 09:00', DATE '2024-03-02'),
    ('p4', 'p4', 'snd-p4', 0, ['p4'], NULL, NULL, 'dan', TIMESTAMP '2024-03-02 10:00', DATE '2024-03-02');
"""  # noqa: E501


def _worlds() -> list:
    return [pytest.param(None, id="synthetic")]


def _copy(source: Path | None, tmp_path: Path) -> Path:
    """A writable copy of `source` (the synthetic world when None), upgraded to the current schema."""
    target = tmp_path / "trendtrace.duckdb"
    if source is None:
        con = warehouse.connect(target)
        con.execute(SYNTHETIC)
    else:
        shutil.copyfile(source, target)
        con = warehouse.connect(target)
    con.close()
    return target


@pytest.fixture(params=_worlds())
def wh(request, tmp_path) -> duckdb.DuckDBPyConnection:
    """A writable copy of the synthetic warehouse."""
    con = duckdb.connect(str(_copy(request.param, tmp_path)))
    yield con
    con.close()


def _one(con: duckdb.DuckDBPyConnection, sql: str) -> tuple:
    rows = con.sql(sql).fetchall()
    assert rows, f"the warehouse has no row for: {sql}"
    return rows[0]


def _violated(con: duckdb.DuckDBPyConnection) -> dict[str, checks.Violation]:
    return {v.check: v for v in checks.run_checks(con)}


@pytest.mark.parametrize("source", _worlds())
def test_every_invariant_holds_on_a_consistent_warehouse(source, tmp_path):
    assert set(checks.check_names()) == INVARIANTS
    path = source or _copy(None, tmp_path)
    con = duckdb.connect(str(path), read_only=True)  # checks are plain reads: a read-only file will do
    try:
        assert checks.run_checks(con) == []
    finally:
        con.close()


def test_two_primary_sounds_are_named(wh):
    (post_id,) = _one(wh, "SELECT post_id FROM post_sounds WHERE role = 'primary' ORDER BY post_id LIMIT 1")
    wh.execute("INSERT INTO post_sounds SELECT * REPLACE ('snd-intruder' AS sound_id) FROM post_sounds "
               "WHERE post_id = $p AND role = 'primary'", {"p": post_id})
    found = _violated(wh)
    assert set(found) == {"one_primary_sound_per_post"}
    v = found["one_primary_sound_per_post"]
    assert v.count == 1 and f"post_id={post_id}" in v.rows[0] and "snd-intruder" in v.rows[0]


def test_merged_into_a_missing_sound_or_a_cycle_is_named(wh):
    (a,) = _one(wh, "SELECT sound_id FROM sounds WHERE merged_into IS NULL ORDER BY sound_id LIMIT 1")
    wh.execute("UPDATE sounds SET merged_into = 'snd-nowhere' WHERE sound_id = $a", {"a": a})
    v = _violated(wh)["merged_into_names_a_sound"]
    assert f"sound_id={a}, merged_into=snd-nowhere, problem=merged_into names no sound" in v.rows
    # a cycle: two canonical sounds merged into each other (and whatever was merged into them with them)
    wh.execute("UPDATE sounds SET merged_into = NULL WHERE sound_id = $a", {"a": a})
    b, c = [s for (s,) in wh.sql("SELECT sound_id FROM sounds WHERE merged_into IS NULL ORDER BY 1 LIMIT 2").fetchall()]
    wh.execute("UPDATE sounds SET merged_into = $c WHERE sound_id = $b", {"b": b, "c": c})
    wh.execute("UPDATE sounds SET merged_into = $b WHERE sound_id = $c", {"b": b, "c": c})
    text = checks.describe(checks.run_checks(wh, ["merged_into_names_a_sound"]))
    assert f"sound_id={b}, merged_into={c}, problem=merge chain never reaches a canonical sound (cycle)" in text
    assert f"sound_id={c}, merged_into={b}" in text


def test_second_parent_is_named(wh):
    child, parent = _one(wh, "SELECT child_post_id, parent_post_id FROM lineage_edges ORDER BY 1 LIMIT 1")
    (other,) = wh.execute("SELECT post_id FROM posts WHERE post_id NOT IN ($c, $p) ORDER BY created_at, post_id "
                          "LIMIT 1", {"c": child, "p": parent}).fetchall()[0]
    wh.execute("INSERT INTO lineage_edges SELECT * REPLACE ($o AS parent_post_id, 'sound_reuse' AS relation) "
               "FROM lineage_edges WHERE child_post_id = $c", {"o": other, "c": child})
    v = _violated(wh)["one_parent_per_child"]
    assert v.count == 1 and v.rows[0].startswith(f"child_post_id={child}, parent_edges=2")
    assert f"{parent} (" in v.rows[0] and f"{other} (sound_reuse)" in v.rows[0]


def test_parent_not_older_is_named(wh):
    child, parent = _one(wh, "SELECT child_post_id, parent_post_id FROM lineage_edges ORDER BY 1 LIMIT 1")
    wh.execute("UPDATE validated_posts SET created_at = (SELECT created_at FROM validated_posts WHERE post_id = $c) "
               "+ INTERVAL 1 HOUR WHERE post_id = $p", {"c": child, "p": parent})
    v = _violated(wh)["parents_older_than_children"]
    assert any(r.startswith(f"child_post_id={child},") and f"parent_post_id={parent}," in r
               and r.endswith("problem=parent created after the child") for r in v.rows)
    # the same timestamp is ordered by post_id (docs/lineage.md): a violation only when the parent's id is later
    wh.execute("UPDATE validated_posts SET created_at = (SELECT created_at FROM validated_posts WHERE post_id = $c) "
               "WHERE post_id = $p", {"c": child, "p": parent})
    tie = {v.check: v for v in checks.run_checks(wh, ["parents_older_than_children"])}
    assert bool(tie) == (parent > child)
    wh.execute("DELETE FROM validated_posts WHERE post_id = $p", {"p": parent})
    v = _violated(wh)["parents_older_than_children"]
    assert any(r.startswith(f"child_post_id={child},") and r.endswith("problem=parent is not in posts") for r in v.rows)


def test_path_disagreeing_with_edges_is_named(wh):
    (post_id,) = _one(wh, "SELECT post_id FROM lineage_paths WHERE depth >= 1 ORDER BY depth DESC, post_id LIMIT 1")
    wh.execute("UPDATE lineage_paths SET path = list_reverse(path) WHERE post_id = $p", {"p": post_id})
    found = _violated(wh)
    assert set(found) == {"paths_agree_with_edges"}
    (row,) = [r for r in found["paths_agree_with_edges"].rows if r.startswith(f"post_id={post_id},")]
    assert "not the post" in row and "not root_post_id" in row and "is not an edge" in row
    assert "has a parent edge" in row  # the reversed path starts at the post, which has a parent


def test_removed_edge_leaves_paths_disagreeing(wh):
    child, parent = _one(wh, "SELECT child_post_id, parent_post_id FROM lineage_edges ORDER BY 1 LIMIT 1")
    wh.execute("DELETE FROM lineage_edges WHERE child_post_id = $c", {"c": child})
    v = _violated(wh)["paths_agree_with_edges"]
    assert any(r.startswith(f"post_id={child},") and f"hop {parent} → {child} is not an edge" in r
               and "but the edge says no parent" in r for r in v.rows)


def test_stage_fails_naming_the_offending_rows(wh, monkeypatch):
    path = Path(
        wh.execute("SELECT path FROM duckdb_databases() WHERE database_name = current_database()").fetchall()[0][0]
    )
    (post_id,) = _one(wh, "SELECT post_id FROM post_sounds WHERE role = 'primary' ORDER BY post_id LIMIT 1")
    wh.close()
    monkeypatch.setenv("TRENDTRACE_WAREHOUSE", str(path))
    day = date(2024, 3, 4)
    ok = check_invariants.run(day, "test-ok")
    assert ok.status == "success" and ok.rows_in == len(INVARIANTS) and ok.rows_out == 0
    con = duckdb.connect(str(path))
    con.execute("INSERT INTO post_sounds SELECT * REPLACE ('snd-intruder' AS sound_id) FROM post_sounds "
                "WHERE post_id = $p AND role = 'primary'", {"p": post_id})
    con.close()
    with pytest.raises(
        check_invariants.InvariantViolation, match=rf"one_primary_sound_per_post.*\n.*post_id={post_id}"
    ):
        check_invariants.run(day, "test-broken")
    con = duckdb.connect(str(path), read_only=True)
    try:
        status, message = con.execute("SELECT status, message FROM pipeline_runs WHERE task = 'check_invariants' "
                                      "ORDER BY finished_at DESC LIMIT 1").fetchall()[0]
    finally:
        con.close()
    assert status == "failed" and f"post_id={post_id}" in message and "snd-intruder" in message
