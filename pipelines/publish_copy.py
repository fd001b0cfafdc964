"""What the analysts' published copy holds, and how it is written so DuckDB 1.x clients open it too.

The copy carries every analyst-facing table and view with their comments; the matcher's index (postings,
landmark hashes, peaks, the audio-id map) and staging stay out: they are most of the file, no question an
analyst asks reads them, and `trendtrace identify` reads the live warehouse instead.
"""

from __future__ import annotations

import re
from pathlib import Path

import duckdb

from pipelines.warehouse import commit, fetch_rows

# Tables never published (the match index and staging). Everything else in `main` is.
NOT_PUBLISHED = frozenset({
    "stg_posts",
    "audio_peaks",
    "match_audio",
    "match_audio_landmarks",
    "match_postings",
    "match_landmark_postings",
    "match_triplet_postings",
})
# Storage format of the copy: 'v1.4.0' is read by DuckDB 1.4.x, 1.5.x and 2.x (a file in 2.0's own format is
# refused by 1.x: "version number 69 ... 64 and 68").
STORAGE_VERSION = "v1.4.0"


def is_published(name: str) -> bool:
    return name not in NOT_PUBLISHED


def write_copy(con: duckdb.DuckDBPyConnection, target: Path, storage_version: str = STORAGE_VERSION) -> list[str]:
    """Write the published objects of `con`'s database into a new file `target` (must not exist) in
    `storage_version`'s format; returns the tables copied. Views are recreated from their SQL and every
    COMMENT ON is carried over, so the copy documents itself like the warehouse."""
    source = con.execute("SELECT current_database()").fetchall()[0][0]
    tables = [t for (t,) in fetch_rows(con, "publish/catalog_tables", {"db": source}) if is_published(t)]
    views = fetch_rows(con, "publish/catalog_views", {"db": source})
    comments = fetch_rows(con, "publish/catalog_comments", {"db": source})
    kinds = dict.fromkeys(tables, "TABLE") | {v: "VIEW" for v, _ in views}
    alias = "published_copy"
    if not re.fullmatch(r"v\d+\.\d+\.\d+|latest", storage_version):
        raise ValueError(f"unknown storage version {storage_version!r}")
    # The path is bound; the storage version is an option keyword DuckDB does not bind (checked above).
    con.execute(f"ATTACH $path AS {alias} (STORAGE_VERSION '{storage_version}')", {"path": str(target)})
    try:
        # One transaction for the whole copy (it writes only to the copy): ~250 COMMENT ONs would otherwise
        # cost a commit each.
        con.execute("BEGIN TRANSACTION")
        try:
            for table in tables:
                con.execute(f'CREATE TABLE {alias}.main."{table}" AS SELECT * FROM "{source}".main."{table}"')
            con.execute(f"USE {alias}")
            for view, sql in views:
                try:
                    con.execute(sql)  # view SQL names tables unqualified: they resolve inside the copy
                except duckdb.Error as exc:
                    raise RuntimeError(f"view {view} cannot be published (does it read an unpublished table? "
                                       f"see NOT_PUBLISHED): {exc}") from exc
            for name, column, comment in comments:
                if name not in kinds:
                    continue
                # COMMENT ON takes no bound parameter (a parser error): the text, read from the warehouse's own
                # catalog, is written as a string literal with its quotes doubled.
                quoted = "'" + comment.replace("'", "''") + "'"
                if column is None:
                    con.execute(f'COMMENT ON {kinds[name]} "{name}" IS {quoted}')
                else:
                    con.execute(f'COMMENT ON COLUMN "{name}"."{column}" IS {quoted}')
            commit(con)
        except BaseException:
            con.execute("ROLLBACK")
            raise
        finally:
            con.execute(f'USE "{source}"')
        con.execute(f"CHECKPOINT {alias}")
    finally:
        con.execute(f"DETACH {alias}")
    return tables
