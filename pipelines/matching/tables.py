"""The frames match_sounds writes, built from the row types in pipelines/matching/types.py: each frame's polars
schema is derived from its row type's fields, so a table's columns are defined once in Python (and checked
against its DDL in sql/schema/core/ by tests/integration/test_match_tables.py)."""

from __future__ import annotations

import typing
from collections.abc import Sequence
from dataclasses import fields
from datetime import date
from types import UnionType
from typing import Any

import polars as pl

from pipelines.matching.types import DayMatches, MatchOutcome, NewSound, PostSound, SoundMerge

# view name in sql/match_sounds/insert_results.sql -> (row type, the table it fills, the table's columns that
# statement fills from elsewhere: a new sound's origin, title and counts come from its post and refresh_sounds)
FRAMES: dict[str, tuple[type, str, frozenset[str]]] = {
    "new_sounds": (NewSound, "sounds",
                   frozenset({"origin_post_id", "first_seen_at", "title", "n_posts", "merged_into"})),
    "new_post_sounds": (PostSound, "post_sounds", frozenset()),
    "new_merges": (SoundMerge, "sound_merges", frozenset()),
    "new_outcomes": (MatchOutcome, "post_match_outcomes", frozenset()),
}
_DTYPES: dict[type, pl.DataType] = {str: pl.String(), float: pl.Float64(), int: pl.Int64(), date: pl.Date()}


def _dtype(hint: Any) -> pl.DataType:
    """The polars type of a field annotated `hint` (`X | None` as X: every column here may hold nulls)."""
    if isinstance(hint, UnionType) or typing.get_origin(hint) is typing.Union:
        (hint,) = [h for h in typing.get_args(hint) if h is not type(None)]
    return _DTYPES[hint]


def schema(row_type: type) -> dict[str, pl.DataType]:
    """Column name -> polars type of `row_type`'s fields, in field order."""
    hints = typing.get_type_hints(row_type)
    return {f.name: _dtype(hints[f.name]) for f in fields(row_type)}


def frame(row_type: type, rows: Sequence[Any]) -> pl.DataFrame:
    """`rows` (instances of `row_type`) as one frame with `schema(row_type)`."""
    columns = schema(row_type)
    return pl.DataFrame({name: [getattr(r, name) for r in rows] for name in columns}, schema=columns)


def day_frames(day: DayMatches) -> dict[str, pl.DataFrame]:
    """The frames of one day's rows, under the view names sql/match_sounds/insert_results.sql reads."""
    rows = {"new_sounds": day.sounds, "new_post_sounds": day.post_sounds, "new_merges": day.merges,
            "new_outcomes": day.outcomes}
    return {name: frame(row_type, rows[name]) for name, (row_type, _, _) in FRAMES.items()}
