"""Order-independent digests of a warehouse's tables: proof that two runs (before and after a refactor, embedded
and on a cluster) produced the same rows.

Each table's (or view's) digest is its row count and the sum of one hash per row over every column except those that
record *when* or *by which run* something happened (wall-clock and run-id columns, named in
`VOLATILE_COLUMNS`); per-column sums say which column differs when a table does.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path

import duckdb

# (table, column) pairs that differ between two identical runs: clocks, durations, run ids and texts made of them.
VOLATILE_COLUMNS: dict[str, frozenset[str]] = {
    "alerts": frozenset({"created_at", "run_id", "delivered_at", "last_error"}),
    "alert_deliveries": frozenset({"delivered_at", "last_error"}),
    "audio_fingerprints": frozenset({"created_at"}),
    "audio_peaks": frozenset({"created_at"}),
    "media_checks": frozenset({"checked_at", "decode_seconds"}),
    "pipeline_runs": frozenset({"run_id", "seconds", "message", "started_at", "finished_at"}),
    "quarantine": frozenset({"quarantined_at"}),
    "ingest_quarantine": frozenset({"quarantined_at"}),
    "validate_quarantine": frozenset({"quarantined_at"}),
    "fingerprint_quarantine": frozenset({"quarantined_at"}),
    "schema_migrations": frozenset({"applied_at"}),
}
# Columns whose value is compared with its volatile parts removed: (table, column) -> SQL expression.
NORMALISED_COLUMNS: dict[tuple[str, str], str] = {
    # the delivered document carries the time it was recorded and the published file's path
    ("alerts", "payload"): """json_merge_patch(payload, '{"created_at": null, "report": null}')""",
}
# Tables that only record how a run went, not what it found.
SKIPPED_TABLES = frozenset({"alert_delivery_attempts", "warehouse_identity"})  # a random id per warehouse


@dataclass(frozen=True, slots=True)
class TableDigest:
    rows: int
    digest: str
    columns: dict[str, str]


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


# Column types compared through their text when `table_digests` rewrites a path (messages, raw records, lists of them).
_TEXT_TYPES = ("VARCHAR", "JSON", "STRUCT", "[]", "MAP")


def table_digests(path: Path, rewrite: tuple[str, str] | None = None) -> dict[str, TableDigest]:
    """Digest of every base table and view of the DuckDB file at `path` (opened read-only): views too, so what
    analysts see through a name compares equal whether it is a table or a view over other tables.

    `rewrite` (old, new): text columns are compared with `old` replaced by `new`, for warehouses made from the same
    landing zone at two different paths (quarantine reasons name the files they are about by their full path)."""
    con = duckdb.connect(str(path), read_only=True)
    try:
        tables = [t for (t,) in con.execute(
            "SELECT table_name FROM duckdb_tables() WHERE NOT internal AND schema_name = 'main' UNION "
            "SELECT view_name FROM duckdb_views() WHERE NOT internal AND schema_name = 'main' ORDER BY 1"
        ).fetchall() if t not in SKIPPED_TABLES]
        out: dict[str, TableDigest] = {}
        for table in tables:
            volatile = VOLATILE_COLUMNS.get(table, frozenset())
            typed = [(c, t) for c, t in con.execute(
                "SELECT column_name, data_type FROM duckdb_columns() WHERE table_name = ? AND schema_name = 'main' "
                "ORDER BY column_index", [table]).fetchall() if c not in volatile]
            cols = [c for c, _ in typed]
            exprs = [NORMALISED_COLUMNS.get((table, c), _quote(c)) for c in cols]
            params = {}
            if rewrite:
                exprs = [f"replace(CAST({e} AS VARCHAR), $old, $new)" if any(k in t for k in _TEXT_TYPES) else e
                         for e, (_, t) in zip(exprs, typed, strict=True)]
                params = {"old": rewrite[0], "new": rewrite[1]} if any("$old" in e for e in exprs) else {}
            per_col = ", ".join(f"sum(hash({e})::HUGEINT)::VARCHAR" for e in exprs)
            row = ", ".join(exprs)
            n, total, *col_sums = con.execute(
                f"SELECT count(*), sum(hash(row({row}))::HUGEINT)::VARCHAR, {per_col} FROM {_quote(table)}", params
            ).fetchone()
            out[table] = TableDigest(int(n), str(total), dict(zip(cols, map(str, col_sums), strict=False)))
        return out
    finally:
        con.close()


def differences(a: dict[str, TableDigest], b: dict[str, TableDigest]) -> list[str]:
    """Readable lines naming every table (and column) whose rows differ between two digests."""
    lines = []
    for table in sorted(set(a) | set(b)):
        if table not in a or table not in b:
            lines.append(f"{table}: only in {'the second' if table not in a else 'the first'}")
            continue
        x, y = a[table], b[table]
        if (x.rows, x.digest) == (y.rows, y.digest):
            continue
        cols = sorted(c for c in set(x.columns) | set(y.columns) if x.columns.get(c) != y.columns.get(c))
        lines.append(
            f"{table}: {x.rows} vs {y.rows} rows; columns that differ: {', '.join(cols) or '(row order of values)'}"
        )
    return lines


def main(argv: list[str]) -> int:
    """`python -m pipelines.digest WAREHOUSE [--save F] [--compare F]`: print, save or compare digests."""
    path = Path(argv[0])
    digests = table_digests(path)
    as_json = {t: {"rows": d.rows, "digest": d.digest, "columns": d.columns} for t, d in digests.items()}
    if "--save" in argv:
        Path(argv[argv.index("--save") + 1]).write_text(json.dumps(as_json, indent=1, sort_keys=True))
    if "--compare" in argv:
        saved = json.loads(Path(argv[argv.index("--compare") + 1]).read_text())
        other = {t: TableDigest(v["rows"], v["digest"], v["columns"]) for t, v in saved.items()}
        diff = differences(other, digests)
        for line in diff:
            print(line)
        print(f"{len(digests)} tables compared: {'identical' if not diff else f'{len(diff)} differ'}")
        return 1 if diff else 0
    for table, d in digests.items():
        print(f"{table:32} {d.rows:>9} {d.digest}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
