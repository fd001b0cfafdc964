"""Invariants of the core tables, checked after every run: sql/checks/<name>.sql each returns the rows that
break one invariant (no rows = it holds).

The checks are plain queries so an analyst can run one by hand to see every offending row; this module runs
them all and turns what they return into readable violations (the check, how many rows, the first few).
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

from pipelines import warehouse

CHECKS_DIR = warehouse.SQL_DIR / "checks"
SHOWN_ROWS = 5  # offending rows quoted per violated check


@dataclass(frozen=True, slots=True)
class Violation:
    check: str  # sql/checks/<check>.sql
    count: int  # offending rows
    rows: tuple[str, ...]  # the first SHOWN_ROWS of them, as "column=value, …"

    def describe(self) -> str:
        more = f"\n    … and {self.count - len(self.rows)} more" if self.count > len(self.rows) else ""
        quoted = "".join(f"\n    {row}" for row in self.rows)
        return f"{self.check} (sql/checks/{self.check}.sql): {self.count} offending row(s){quoted}{more}"


def check_names() -> list[str]:
    """Every invariant, in name order (one file each)."""
    return sorted(p.stem for p in CHECKS_DIR.glob("*.sql"))


def _value(v: object) -> str:
    """As an analyst would write it: NULL, 2024-03-01, [a, b] (not Python reprs)."""
    if v is None:
        return "NULL"
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_value(x) for x in v) + "]"
    return str(v)


def _text(columns: list[str], row: tuple) -> str:
    return ", ".join(f"{c}={_value(v)}" for c, v in zip(columns, row, strict=False))


def run_check(con: duckdb.DuckDBPyConnection, name: str, shown: int = SHOWN_ROWS) -> Violation | None:
    """Run sql/checks/<name>.sql; None when it returns no rows."""
    rel = con.sql(warehouse.sql_text(f"checks/{name}"))
    first = rel.limit(shown).fetchall()
    if not first:
        return None
    (count,) = rel.aggregate("count(*)").fetchall()[0]
    return Violation(name, int(count), tuple(_text(rel.columns, row) for row in first))


def run_checks(con: duckdb.DuckDBPyConnection, names: list[str] | None = None,
               shown: int = SHOWN_ROWS) -> list[Violation]:
    """Every check (or `names`) on `con`; returns the violated ones, in name order. Read-only."""
    found = (run_check(con, name, shown) for name in (check_names() if names is None else names))
    return [v for v in found if v is not None]


def describe(violations: list[Violation]) -> str:
    """One readable block naming every violated invariant and its first offending rows."""
    return "\n".join(v.describe() for v in violations)
