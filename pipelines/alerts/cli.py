"""`trendtrace alerts`: what crossed which line on which day, and an operator's explicit resend."""

from __future__ import annotations

import sys
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from pipelines import settings

app = typer.Typer(help=__doc__, no_args_is_help=True, add_completion=False)
console = Console(stderr=True)
out = Console(width=None if sys.stdout.isatty() else 200)

WarehouseOpt = Annotated[
    Path | None,
    typer.Option("--warehouse", envvar=settings.ENV_WAREHOUSE, help="DuckDB warehouse file."),
]


class Status(StrEnum):
    pending = "pending"
    sent = "sent"
    failed = "failed"


def _use_warehouse(warehouse: Path | None) -> Path:
    """Point trendtrace (and Airflow, whose connections may hold the channels) at the project's folders."""
    from pipelines.airflow_runner import configure_environment

    configure_environment(None, warehouse, quiet=False)
    path = settings.warehouse_path()
    if not path.exists():
        console.print(f"no warehouse at {path} yet: run `trendtrace run --date D` first")
        raise typer.Exit(code=1)
    return path


@app.command("list")
def list_alerts(
    day: Annotated[str | None, typer.Option("--day", help="Only crossings of this day (YYYY-MM-DD).")] = None,
    status: Annotated[Status | None, typer.Option("--status", help="Only alerts in this state.")] = None,
    limit: Annotated[int, typer.Option(help="Rows to show.")] = 100,
    warehouse: WarehouseOpt = None,
) -> None:
    """Alerts, newest crossing first: sound, rule, level, value, delivery status and last error."""
    from pipelines import warehouse as wh

    path = _use_warehouse(warehouse)
    params = {"day": date.fromisoformat(day) if day else None, "status": status.value if status else None,
              "limit": limit}
    con = wh.connect(path, read_only=True)
    try:
        has_table = con.execute(
            "SELECT count(*) FROM duckdb_tables() WHERE table_name = 'alerts'"
        ).fetchall()[0][0]
        if not has_table:
            console.print("no alerts table yet: the alerts stage has not run on this warehouse")
            raise typer.Exit(code=1)
        frame = con.sql(wh.sql_text("alerts/list"), params=params).pl()
    finally:
        con.close()
    table = Table(title=f"alerts ({frame.height} shown)")
    for name in frame.columns:
        table.add_column(name)
    for row in frame.iter_rows():
        table.add_row(*["" if v is None else str(v) for v in row])
    out.print(table)


@app.command()
def resend(
    alert_id: Annotated[int, typer.Argument(help="alert_id from `trendtrace alerts list`.")],
    warehouse: WarehouseOpt = None,
) -> None:
    """Deliver one alert again through every configured channel, whatever its status (exit 1 if not delivered)."""
    from pipelines import warehouse as wh
    from pipelines.alerts import channels, outbox, rules

    path = _use_warehouse(warehouse)
    config = rules.load()
    configured = channels.configured_channels()
    con = wh.connect(path)
    try:
        status, report = outbox.resend(con, alert_id, configured, config.delivery)
    except KeyError as exc:
        console.print(str(exc.args[0]))
        raise typer.Exit(code=1) from None
    finally:
        con.close()
    out.print(f"alert {alert_id}: {status}" + (f" ({report.errors[-1]})" if report.errors else ""))
    if status != "sent":
        raise typer.Exit(code=1)
