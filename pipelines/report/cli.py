"""`trendtrace report`: the day's HTML report from the published copy (registered by pipelines.explore)."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated

import typer

from pipelines.explore import DbOpt, WarehouseOpt, database_path, err, open_published, out


def report(
    out_file: Annotated[Path, typer.Option("--out", help="HTML file to write.")] = Path("report.html"),
    day: Annotated[str | None, typer.Option("--day", help="Day YYYY-MM-DD (default: the latest day).")] = None,
    max_nodes: Annotated[int, typer.Option("--max-nodes", min=2, help="Posts drawn per cascade tree before the rest "
                                                                      "is collapsed.")] = 60,
    db: DbOpt = None,
    warehouse: WarehouseOpt = None,
) -> None:
    """Write the day's report: one self-contained HTML file (inline SVG, works offline) with the summary, top
    rising sounds, adoption curves, origin stories with cascade trees, virality, versions and alerts."""
    from pipelines.report.build import build_report

    wanted = date.fromisoformat(day) if day else None
    try:
        with open_published(database_path(db, warehouse)) as con:
            shown, html = build_report(con, wanted, max_nodes=max_nodes)
    except (FileNotFoundError, ValueError) as exc:
        err.print(f"[red]{exc}[/red]", highlight=False)
        raise typer.Exit(code=2) from exc
    out_file.parent.mkdir(parents=True, exist_ok=True)
    out_file.write_text(html, encoding="utf-8")
    out.print(f"report for {shown}: {out_file} ({len(html) // 1024} KiB)", highlight=False)
