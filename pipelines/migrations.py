"""Numbered schema migrations: bring a warehouse made by an older version up to the shape sql/schema defines.

sql/schema/ always holds each table's full current shape (one definition per table). A migration is the step
that turns an *existing* warehouse of the previous version into that shape: `sql/migrations/NNNN_name.sql`,
or a Python function registered in `PYTHON_MIGRATIONS` below when SQL cannot do it. `upgrade` (called by
`warehouse.connect` for every writer, hence by `trendtrace init` and every stage) applies them:

- a fresh file gets the DDL and a `schema_migrations` row for every migration (the DDL already is the latest
  shape), in one transaction;
- an existing file gets its pending migrations, in version order, each in its own transaction together with
  its version row (so each is applied exactly once), *then* the DDL (new tables, comments, indexes). A
  migration therefore meets the warehouse as the previous version left it, possibly without a table the DDL
  will create: SQL migrations use `ALTER TABLE IF EXISTS`, Python ones look before they act;
- a file made before versioning existed (tables, no `schema_migrations`) is an existing file at version 0;
  its migrations are written to be no-ops on tables that already have their columns.

When nothing is pending, `upgrade` costs one query (`sql/migrate/applied_versions.sql`) before the DDL.
A failing migration is rolled back and raises `MigrationError` naming it; the warehouse stays at the version
before it. Details and how to add one: docs/warehouse.md.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from pipelines import warehouse

MIGRATIONS_DIR = warehouse.SQL_DIR / "migrations"
_FILE_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")

Apply = Callable[[duckdb.DuckDBPyConnection], None]


class MigrationError(RuntimeError):
    """A migration failed (and was rolled back), or the warehouse is newer than this code."""


@dataclass(frozen=True, slots=True)
class Migration:
    version: int
    name: str
    apply: Apply
    source: str  # where it is defined, for error messages: sql/migrations/… or pipelines.migrations.<func>

    @property
    def label(self) -> str:
        return f"{self.version:04d}_{self.name}"


def _has_table(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    return name in {t for (t,) in warehouse.fetch_rows(con, "migrate/table_names")}


def _candidate_index(con: duckdb.DuckDBPyConnection) -> None:
    """Give audio indexed before the landmark candidate index existed its rows (match_audio_landmarks,
    match_triplet_postings): without them a warehouse built before would never offer its older sounds as
    landmark candidates. Python because the rows are computed from stored peaks with numpy."""
    if not _has_table(con, "match_audio"):
        return  # nothing indexed yet: the DDL creates the index tables empty
    # A warehouse from before the candidate index (or before stored peaks) lacks their tables: create them
    # as the DDL defines them (0003 already gave match_audio the columns that file comments on, and 0008's
    # column, which it comments on too, is added first: 0008 itself then finds it there).
    warehouse.run_sql(con, "migrations/0008_match_audio_via_pitch")
    warehouse.run_sql(con, "schema/core/audio_peaks")
    warehouse.run_sql(con, "schema/core/match_index")
    # imported here: matching code is being reorganised, and importing it costs numpy/polars at connect time
    from pipelines.matching.store import add_missing_candidate_index

    add_missing_candidate_index(con)


def _posts_and_quarantine_views(con: duckdb.DuckDBPyConnection) -> None:
    """`posts` and `quarantine` were tables written by several stages (fingerprint deleted from posts, validate
    from quarantine); now each stage writes its own table and the analysts' names are views over them
    (docs/landing.md). Python because what to do depends on what the file holds: a table is renamed or split,
    a warehouse without them (or already split) is left alone."""
    if _has_table(con, "posts") and not _has_table(con, "validated_posts"):
        con.execute("ALTER TABLE posts RENAME TO validated_posts")  # DDL: no values
    if _has_table(con, "quarantine"):
        stages = {s for (s,) in con.execute("SELECT DISTINCT stage FROM quarantine").fetchall()}
        unknown = stages - {"ingest", "validate", "fingerprint"}
        if unknown:  # never drop rows we have no table for
            raise MigrationError(f"quarantine holds rows of unknown stages {sorted(unknown)}")
        for name in ("ingest_quarantine", "validate_quarantine", "fingerprint_quarantine"):
            warehouse.run_sql(con, f"schema/core/{name}")
        if not _has_table(con, "validated_posts"):
            warehouse.run_sql(con, "schema/core/validated_posts")
        if not _has_table(con, "stg_posts"):
            warehouse.run_sql(con, "schema/staging/stg_posts")
        warehouse.run_sql(con, "migrate/split_posts_quarantine")


def _post_stats(con: duckdb.DuckDBPyConnection) -> None:
    """post_stats (a post's counters per collection day, docs/landing.md "Collections of any age"): give the posts
    an older warehouse already holds their first observation. Python because the table must exist first and
    sql/schema/marts/post_stats.sql stays its one definition; a warehouse without posts yet is left alone."""
    if not _has_table(con, "validated_posts"):
        return
    warehouse.run_sql(con, "schema/marts/post_stats")
    warehouse.run_sql(con, "migrate/post_stats_backfill")


# Python migrations, registered in this one place: version -> (name, function). Versions share one sequence
# with the files in sql/migrations/.
PYTHON_MIGRATIONS: dict[int, tuple[str, Apply]] = {
    4: ("candidate_index", _candidate_index),
    5: ("posts_and_quarantine_views", _posts_and_quarantine_views),
    6: ("post_stats", _post_stats),
}


def _sql_migration(path: Path) -> Apply:
    def apply(con: duckdb.DuckDBPyConnection) -> None:
        for statement in con.extract_statements(path.read_text(encoding="utf-8")):
            con.execute(statement)  # DDL: no parameters

    return apply


def _shown(path: Path) -> str:
    try:
        return str(path.relative_to(warehouse.PROJECT_ROOT))
    except ValueError:
        return str(path)


def all_migrations() -> list[Migration]:
    """Every migration, in version order; a duplicate or malformed version is an error, not a guess."""
    found: dict[int, Migration] = {}

    def add(m: Migration) -> None:
        if m.version in found:
            raise MigrationError(f"migration version {m.version} is defined twice: {found[m.version].source} "
                                 f"and {m.source}")
        found[m.version] = m

    for path in sorted(MIGRATIONS_DIR.glob("*.sql")):
        match = _FILE_NAME.match(path.name)
        if not match:
            raise MigrationError(f"{path}: migration files are named NNNN_lower_snake_name.sql")
        add(Migration(int(match[1]), match[2], _sql_migration(path),
                      _shown(path)))
    for version, (name, func) in PYTHON_MIGRATIONS.items():
        add(Migration(version, name, func, f"pipelines.migrations.{func.__name__}"))
    return [found[v] for v in sorted(found)]


def applied_versions(con: duckdb.DuckDBPyConnection) -> list[int] | None:
    """Versions recorded in schema_migrations, or None when the table does not exist (fresh or pre-versioning)."""
    try:
        return [int(v) for (v,) in warehouse.fetch_rows(con, "migrate/applied_versions")]
    except duckdb.CatalogException:
        return None


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def _record(con: duckdb.DuckDBPyConnection, m: Migration, at: datetime) -> None:
    warehouse.run_sql(con, "migrate/record_version", {"version": m.version, "name": m.name, "applied_at": at})


def _apply_one(con: duckdb.DuckDBPyConnection, m: Migration, previous: int) -> None:
    try:
        with warehouse.transaction(con):
            m.apply(con)
            _record(con, m, _now())
    except Exception as exc:
        raise MigrationError(
            f"migration {m.label} ({m.source}) failed and was rolled back; the warehouse stays at schema "
            f"version {previous}: {type(exc).__name__}: {exc}"
        ) from exc


def upgrade(con: duckdb.DuckDBPyConnection, migrations: Iterable[Migration] | None = None) -> list[Migration]:
    """Bring the warehouse on `con` to the current schema (see the module doc); returns the migrations run.

    `migrations` defaults to `all_migrations()` (tests pass their own)."""
    known = list(all_migrations() if migrations is None else migrations)
    applied = applied_versions(con)
    if applied is None:
        if not warehouse.fetch_rows(con, "migrate/table_names"):
            at = _now()
            with warehouse.transaction(con):  # fresh: the DDL is the latest shape, every migration is recorded
                warehouse.apply_schema(con)
                for m in known:
                    _record(con, m, at)
            return []
        warehouse.run_sql(con, "schema/core/schema_migrations")  # made before versioning: version 0
        applied = []
    newer = sorted(set(applied) - {m.version for m in known})
    if newer:
        raise MigrationError(f"the warehouse has schema version {max(applied)} (migrations {newer} unknown here), "
                             f"newer than this code knows ({known[-1].version if known else 0}): upgrade trendtrace")
    done = set(applied)
    pending = [m for m in known if m.version not in done]
    current = max(applied, default=0)
    for m in pending:
        _apply_one(con, m, current)
        current = max(current, m.version)
    with warehouse.transaction(con):  # one commit for its ~200 statements, not one each: ~4x faster
        warehouse.apply_schema(con)
    return pending


def schema_version(con: duckdb.DuckDBPyConnection) -> tuple[int | None, list[Migration]]:
    """(the warehouse's schema version, migrations this code knows it has not had); version None when it
    predates versioning. Read-only: for `trendtrace status`."""
    applied = applied_versions(con)
    done = set(applied or [])
    pending = [m for m in all_migrations() if m.version not in done]
    return (max(applied, default=0) if applied is not None else None), pending
