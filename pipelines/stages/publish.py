"""publish: a consistent read-only copy of the warehouse for analysts.

DuckDB lets one process write and, while it does, nobody else open the file; analysts (and dashboards)
query the published copy, which is replaced atomically at the end of every daily run. The copy is written
table by table in DuckDB 1.4's storage format (pipelines.publish_copy), so DuckDB 1.4/1.5 clients open it
too, and it leaves the matcher's index postings out (most of the file, of no use to a query).
"""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path

import duckdb

from pipelines import settings
from pipelines.publish_copy import write_copy
from pipelines.runlog import StageResult, stage_run


def published_path(warehouse_file: Path | None = None) -> Path:
    source = warehouse_file or settings.warehouse_path()
    return source.parent / "published" / source.name


def report_path(day: date | str, warehouse_file: Path | None = None) -> Path:
    """The daily report publish writes beside the copy: published/reports/report-<day>.html."""
    return published_path(warehouse_file).parent / "reports" / f"report-{day}.html"


def write_report(con: duckdb.DuckDBPyConnection, day: date) -> Path | None:
    """The day's HTML report (pipelines.report) from the warehouse just published; None on a day without adoption
    data (nothing to tell yet). Written to a .tmp and renamed, like the copy."""
    from pipelines.report.build import build_report

    try:
        _, html = build_report(con, day)
    except ValueError:  # no adoption rows for this day (a day without posts)
        return None
    target = report_path(day)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(".html.tmp")
    try:
        tmp.write_text(html, encoding="utf-8")
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return target


def run(day: date, run_id: str = "cli") -> StageResult:
    target = published_path()
    with stage_run("publish", day, run_id) as (con, result):
        con.execute("CHECKPOINT")
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_suffix(target.suffix + ".tmp")
        tmp.unlink(missing_ok=True)  # ATTACH would open a leftover of a killed run instead of a new file
        try:
            tables = write_copy(con, tmp)
            os.replace(tmp, target)
        except BaseException:
            # A failed copy (disk full) or replace must not leave a half-written .tmp beside the published file.
            tmp.unlink(missing_ok=True)
            raise
        result.rows_out = con.execute("SELECT count(*) FROM posts").fetchall()[0][0]  # fetchone leaves the result open
        report = write_report(con, day)
        result.message = (f"published {target} ({len(tables)} tables); report: "
                          f"{report if report else 'none (no adoption data for this day)'}")
        return result
