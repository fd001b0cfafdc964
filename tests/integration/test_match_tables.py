"""The frames match_sounds writes must have exactly the columns and types of their tables' DDL: the row types in
pipelines/matching/types.py are the only Python definition of post_sounds, sounds, sound_merges and
post_match_outcomes, so this is what keeps the two from drifting apart.

A real DuckDB file gets the schema from sql/schema/ (warehouse.connect); each frame, built from one row of its
type, is registered and DESCRIBEd by DuckDB itself, next to DESCRIBE of its table."""

from __future__ import annotations

import typing
from dataclasses import fields
from datetime import date
from types import UnionType

import pytest

from pipelines import warehouse
from pipelines.matching import tables
from pipelines.matching.types import DayMatches, MatchOutcome, Merge, NewSound, PostSound, Row, SoundMerge

DAY = date(2024, 5, 1)
ROW = Row("snd-p1", "primary", 0.0, 12.5, 3.0, 15.5, 1.25, 1.25, 0.42, "landmarks_speed_pitch")
EXAMPLES = {
    PostSound: PostSound.of(ROW, "p2", ROW.method, DAY),
    NewSound: NewSound("snd-p1", "p1", "ab" * 32, 14.2, DAY),
    SoundMerge: SoundMerge.of(Merge("snd-p3", "snd-p1", "p4", 0.9, "chromaprint", "why"), DAY),
    MatchOutcome: MatchOutcome("p2", "matched", "primary snd-p1", DAY),
}


@pytest.fixture(scope="module")
def con(tmp_path_factory):
    con = warehouse.connect(tmp_path_factory.mktemp("tables") / "wh.duckdb")
    yield con
    con.close()


def _describe(con, relation: str) -> dict[str, tuple[str, str]]:
    return {name: (kind, null) for name, kind, null, *_ in con.execute(f"DESCRIBE {relation}").fetchall()}


def _optional(hint) -> bool:
    union = isinstance(hint, UnionType) or typing.get_origin(hint) is typing.Union
    return union and type(None) in typing.get_args(hint)


@pytest.mark.parametrize("view", sorted(tables.FRAMES))
def test_each_frame_has_its_tables_columns_and_types(con, view):
    row_type, table, filled_in_sql = tables.FRAMES[view]
    ddl = _describe(con, table)
    frame = tables.frame(row_type, [EXAMPLES[row_type]])
    con.register("written", frame)
    try:
        written = _describe(con, "SELECT * FROM written")
    finally:
        con.unregister("written")
    assert set(written) | filled_in_sql == set(ddl) and not set(written) & filled_in_sql, (table, written, ddl)
    assert {c: kind for c, (kind, _) in written.items()} == {c: ddl[c][0] for c in written}, table
    # a NOT NULL column is never Optional in the row type
    hints = typing.get_type_hints(row_type)
    assert not [c for c in written if ddl[c][1] == "NO" and _optional(hints[c])], table


def test_an_empty_day_gives_typed_empty_frames(con):
    frames = tables.day_frames(DayMatches(DAY, files=0))
    assert set(frames) == set(tables.FRAMES)
    for view, frame in frames.items():
        assert frame.is_empty() and frame.schema == tables.schema(tables.FRAMES[view][0]), view


def test_rows_go_in_by_name_and_come_back_as_they_were(con):
    """insert_results inserts BY NAME: the row types' field order need not be the DDL's."""
    frames = tables.day_frames(DayMatches(DAY, files=1, post_sounds=[EXAMPLES[PostSound]],
                                          merges=[EXAMPLES[SoundMerge]], outcomes=[EXAMPLES[MatchOutcome]]))
    con.execute("BEGIN TRANSACTION")
    try:
        warehouse.run_sql(con, "match_sounds/insert_results", frames=frames)
        for row_type in (PostSound, SoundMerge, MatchOutcome):
            _, table, _ = next(v for v in tables.FRAMES.values() if v[0] is row_type)
            names = [f.name for f in fields(row_type)]
            got = con.execute(f"SELECT {', '.join(names)} FROM {table}").fetchall()
            assert got == [tuple(getattr(EXAMPLES[row_type], n) for n in names)], table
    finally:
        con.execute("ROLLBACK")
