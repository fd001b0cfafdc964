"""`trendtrace`: set up, run and inspect the pipeline. `run`/`backfill` go through Airflow (`dag.test`)."""

from __future__ import annotations

import sys
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table

from pipelines import settings

if TYPE_CHECKING:
    import duckdb

app = typer.Typer(help=__doc__, no_args_is_help=True, add_completion=False)
console = Console(stderr=True)
# Piped output (CI logs, `| less`) gets wide tables instead of rich's 80-column default.
out = Console(width=None if sys.stdout.isatty() else 200)

def _mount_subcommands() -> None:
    from pipelines.alerts.cli import app as alerts_app

    app.add_typer(alerts_app, name="alerts", help="Threshold alerts: list them, resend one.")
    from pipelines.explore import register as register_explore  # sounds, sound, lineage, query, report

    register_explore(app)


_mount_subcommands()

LandingOpt = Annotated[
    Path | None,
    typer.Option("--landing", envvar=settings.ENV_LANDING, help="Landing zone root (holds dt=YYYY-MM-DD/ partitions)."),
]
WarehouseOpt = Annotated[
    Path | None,
    typer.Option("--warehouse", envvar=settings.ENV_WAREHOUSE, help="DuckDB warehouse file."),
]


def _configure(landing: Path | None, warehouse: Path | None, verbose: bool = False) -> None:
    from pipelines.airflow_runner import configure_environment

    configure_environment(landing, warehouse, quiet=not verbose)


def _table(title: str, frame) -> Table:
    table = Table(title=title)
    for name in frame.columns:
        table.add_column(name)
    for row in frame.iter_rows():
        table.add_row(*["" if v is None else str(v) for v in row])
    return table


def _print_outcomes(outcomes) -> bool:
    """One line per day: the run state and how many stages ended in each status."""
    statuses = ("success", "no_data", "failed")
    table = Table(title="DAG runs (stages per status)")
    for name in ("day", "state", *statuses, "problem"):
        table.add_column(name)
    ok = True
    for o in outcomes:
        counts = [str(sum(1 for s in o.stages.values() if s == status)) for status in statuses]
        table.add_row(str(o.day), o.state, *counts, o.problem or "")
        ok = ok and o.problem is None
    out.print(table)
    return ok


def _run(days: list[date]) -> None:
    from pipelines.airflow_runner import run_days

    outcomes = run_days(days)
    ok = _print_outcomes(outcomes)
    _print_summary()
    if not ok or len(outcomes) < len(days):
        raise typer.Exit(code=1)


def _print_summary() -> None:
    from pipelines import warehouse

    con = warehouse.connect(read_only=True)
    try:
        frame = con.sql(warehouse.sql_text("status/daily_summary")).pl()
        by_rule = con.sql(warehouse.sql_text("status/quarantine_by_rule")).pl()
    finally:
        con.close()
    out.print(_table("Per partition day", frame))
    if by_rule.height:
        out.print(_table("Quarantine by rule", by_rule))
    out.print(f"warehouse: {settings.warehouse_path()}")


def _day_option(text: str, option: str) -> date:
    """A --date/--start/--end value as a real calendar day, or a usage error (exit 2) saying why."""
    try:
        return settings.parse_day(text, option)
    except settings.InvalidDay as exc:
        raise typer.BadParameter(str(exc), param_hint=option) from None


def _print_invalid_partitions(invalid) -> None:
    """`dt=` folders that name no day: no run reads them, so they are shown wherever days are listed."""
    if not invalid:
        return
    table = Table(title=f"Invalid partitions in {settings.landing_dir()} (not processed)")
    table.add_column("folder")
    table.add_column("problem")
    for p in invalid:
        table.add_row(p.name, p.reason)
    out.print(table)


def _print_degraded_days() -> None:
    import duckdb

    from pipelines import warehouse
    from pipelines.stages import TASKS

    con = warehouse.connect(read_only=True)
    try:
        frame = con.sql(warehouse.sql_text("status/degraded_days"), params={"tasks": list(TASKS)}).pl()
    except duckdb.CatalogException as exc:  # a warehouse from before some table existed
        out.print(f"degraded days: not available on this warehouse ({exc})", highlight=False)
        return
    finally:
        con.close()
    if frame.height:
        out.print(_table("Degraded days", frame))
    else:
        out.print("degraded days: none")
    con = warehouse.connect(read_only=True)
    try:
        orphans = con.sql(warehouse.sql_text("status/orphan_media")).pl()
    finally:
        con.close()
    if orphans.height:
        out.print(_table("orphan_media (media files no record claims)", orphans))


@app.command()
def init(landing: LandingOpt = None, warehouse: WarehouseOpt = None) -> None:
    """Create the landing folder, the warehouse schema (or apply its pending migrations) and Airflow's metadata database."""  # noqa: E501
    _configure(landing, warehouse)
    from pipelines import warehouse as wh
    from pipelines.airflow_runner import ensure_metadata_db

    settings.landing_dir().mkdir(parents=True, exist_ok=True)
    con = wh.connect()  # a writer's connect applies pending migrations
    try:
        version_line = _schema_version_line(con)
    finally:
        con.close()
    ensure_metadata_db()
    out.print(f"landing:   {settings.landing_dir()}\nwarehouse: {settings.warehouse_path()}\n{version_line}")


@app.command()
def run(
    day: Annotated[str, typer.Option("--date", help="Partition day YYYY-MM-DD.")],
    landing: LandingOpt = None,
    warehouse: WarehouseOpt = None,
    verbose: Annotated[bool, typer.Option(help="Show Airflow's own logs.")] = False,
) -> None:
    """Run the DAG for one day (rerunning a day replaces its rows)."""
    the_day = _day_option(day, "--date")
    _configure(landing, warehouse, verbose)
    _run([the_day])  # run_days warns about invalid partitions


@app.command()
def backfill(
    start: Annotated[
        str | None, typer.Option("--start", help="First day YYYY-MM-DD (default: the landing zone's first partition).")
    ] = None,
    end: Annotated[
        str | None, typer.Option("--end", help="Last day YYYY-MM-DD, inclusive (default: its last partition).")
    ] = None,
    landing: LandingOpt = None,
    warehouse: WarehouseOpt = None,
    verbose: Annotated[bool, typer.Option(help="Show Airflow's own logs.")] = False,
) -> None:
    """Run the DAG for every day from START to END, in order (days without a partition record no_data)."""
    first_opt = _day_option(start, "--start") if start else None
    last_opt = _day_option(end, "--end") if end else None
    _configure(landing, warehouse, verbose)
    present, invalid = settings.scan_partitions()
    if invalid:
        # A folder no run would read: refuse before running anything, so nothing is skipped in silence.
        _print_invalid_partitions(invalid)
        console.print(
            f"[red]backfill refused: {len(invalid)} partition folder(s) in {settings.landing_dir()} name no day "
            f"({', '.join(p.name for p in invalid)}); rename them to dt=YYYY-MM-DD or move them out of the "
            "landing zone, then run again[/red]",
            highlight=False, soft_wrap=True,
        )
        raise typer.Exit(code=2)
    if (first_opt is None or last_opt is None) and not present:
        raise typer.BadParameter(f"no dt=YYYY-MM-DD partitions in {settings.landing_dir()}; give --start and --end")
    first = first_opt or present[0]
    last = last_opt or present[-1]
    if last < first:
        raise typer.BadParameter(f"--end {last} is before --start {first}")
    _run([first + timedelta(days=i) for i in range((last - first).days + 1)])


@app.command()
def status(
    landing: LandingOpt = None,
    warehouse: WarehouseOpt = None,
    limit: Annotated[int, typer.Option(help="Rows to show.")] = 30,
) -> None:
    """Recent stage runs (newest per day and stage), the per-day summary, invalid partitions, degraded days."""
    _configure(landing, warehouse)
    from pipelines import warehouse as wh

    if not settings.warehouse_path().exists():
        console.print(f"no warehouse at {settings.warehouse_path()} yet: run `trendtrace run --date D` first")
        _print_invalid_partitions(settings.invalid_partitions())
        raise typer.Exit(code=1)
    con = wh.connect(read_only=True)
    try:
        frame = con.sql(wh.sql_text("status/latest_runs"), params={"limit": limit}).pl()
        version_line = _schema_version_line(con)
    finally:
        con.close()
    out.print(_table("pipeline_runs (latest per day and task)", frame))
    _print_summary()
    _print_invalid_partitions(settings.invalid_partitions())
    _print_degraded_days()
    out.print(version_line)


@app.command()
def formats() -> None:
    """Every export format trendtrace reads: its container, signature, required fields and tool."""
    from pipelines.ingest.mapped import MappingError
    from pipelines.ingest.registry import all_formats

    try:
        known = all_formats()
    except MappingError as exc:
        console.print(f"config/formats: {exc}")
        raise typer.Exit(code=1) from None
    table = Table(title="Export formats (a file is read by the one format whose signature accepts it)")
    for name in ("format", "container", "signature", "required", "tool"):
        table.add_column(name)
    for f in known:
        table.add_row(f.name, f.container, f.signature, ", ".join(f.required), f.tool)
    out.print(table)


@app.command()
def inspect(
    file: Annotated[Path, typer.Argument(help="An export file (its folder is taken as the partition).")],
    rows: Annotated[int, typer.Option(help="Canonical rows to preview.")] = 5,
) -> None:
    """Which format reads FILE, why every other format refused it, and a preview of its canonical rows.
    Writes nothing."""
    from pipelines.ingest import read_export
    from pipelines.ingest.detect import decode, detect

    if not file.is_file():
        console.print(f"{file}: no such file")
        raise typer.Exit(code=2)
    partition = file.resolve().parent
    text = decode(file.read_bytes(), file.name)
    verdicts = {} if not isinstance(text, str) else detect(text, file.name).refusals
    result = read_export(partition, file.name)
    out.print(f"{file}: read by {result.source_format or 'no format'}", highlight=False)
    table = Table(title="Candidates")
    table.add_column("format")
    table.add_column("verdict")
    for name, why in verdicts.items():
        table.add_row(name, "accepts" if not why else f"refused: {why}")
    out.print(table)
    if result.drift is not None:
        out.print(f"schema drift: {result.drift}", highlight=False)
    preview = Table(title=f"Canonical rows ({len(result.posts)} posts, {len(result.problems)} to quarantine)")
    from pipelines.media_paths import resolve_media

    columns = ("post_id", "author", "created_at", "platform_music_id", "music_title", "duet_from_post_id",
               "plays")
    for name in (*columns, "media (as validate resolves it)"):
        preview.add_column(name)
    extensions = settings.contract_settings().media_extensions
    for post in result.posts[:rows]:
        where = resolve_media(partition, post.post_id, post.media_path, extensions)
        preview.add_row(*["" if getattr(post, c) is None else str(getattr(post, c)) for c in columns],
                        where.path or f"{where.status}: {where.problem}")
    out.print(preview)
    for problem in result.problems[:rows]:
        out.print(f"quarantine {problem.rule}: {problem.reason[:300]}", highlight=False)


def _schema_version_line(con: duckdb.DuckDBPyConnection) -> str:
    """'schema version: N' and what is pending, read-only (a writer's connect, e.g. `init`, applies it)."""
    from pipelines.migrations import schema_version

    version, pending = schema_version(con)
    shown = "none (made before schema_migrations)" if version is None else str(version)
    if not pending:
        return f"schema version: {shown} (current)"
    names = ", ".join(m.label for m in pending)
    return f"schema version: {shown}, {len(pending)} pending ({names}): `trendtrace init` or the next run applies them"


@app.command("sample-world")
def sample_world(
    out_dir: Annotated[Path, typer.Option("--out", help="Folder for landing/ (exports + media) and truth/.")],
    days_: Annotated[int, typer.Option("--days", help="Days of posting.")] = 14,
    seed: Annotated[int, typer.Option(help="Random seed: the same seed builds the same world.")] = 7,
    scale: Annotated[
        str, typer.Option(help="small (tests, ~100 posts), quick (make demo, ~450), demo (~2 000), large (>= 50 000).")
    ] = "demo",
    start: Annotated[str, typer.Option(help="First day YYYY-MM-DD.")] = "2024-03-01",
    no_media: Annotated[bool, typer.Option("--no-media", help="Metadata only (for lineage at 1M+ posts).")] = False,
    posts: Annotated[int | None, typer.Option(help="Override the scale's number of posts.")] = None,
) -> None:
    """Build the public sample world: real audio, platform-shaped exports, hidden ground truth."""
    from pipelines.sample_world.world import build_world

    summary = build_world(
        out_dir, days=days_, seed=seed, scale=scale, no_media=no_media, start=date.fromisoformat(start),
        posts=posts, progress=True,
    )
    table = Table(title=f"sample world in {out_dir}")
    table.add_column("what")
    table.add_column("value")
    for key, value in summary.items():
        table.add_row(str(key), str(value))
    out.print(table)


@app.command()
def evaluate(
    truth: Annotated[Path, typer.Option("--truth", help="The sample world's folder (or its truth/ folder).")],
    warehouse: WarehouseOpt = None,
    json_out: Annotated[Path | None, typer.Option("--json", help="Also write the figures here as JSON.")] = None,
) -> None:
    """Score the warehouse against a sample world's ground truth, next to the metadata-only baselines."""
    _configure(None, warehouse)
    from pipelines import warehouse as wh
    from pipelines.accuracy import evaluate_warehouse, format_report, write_report

    con = wh.connect(read_only=True)
    try:
        report = evaluate_warehouse(con, truth)
    finally:
        con.close()
    out.print(format_report(report), highlight=False)
    target = json_out or settings.warehouse_path().parent / "evaluation.json"
    write_report(report, target)
    out.print(f"figures written to {target}")


@app.command()
def identify(
    media: Annotated[Path, typer.Argument(help="A media file (audio or video) to identify.")],
    warehouse: WarehouseOpt = None,
    json_out: Annotated[bool, typer.Option("--json", help="Print the result as JSON instead of a table.")] = False,
) -> None:
    """Which known sounds does this file play, where, at what speed, and where did each start? Matches one file
    against the warehouse's sound index with the same rules as match_sounds; writes nothing."""
    import json

    _configure(None, warehouse)
    from pipelines import warehouse as wh
    from pipelines.audio.decode import DecodeError
    from pipelines.identify import IndexNotReady, identify_file

    con = wh.connect(read_only=True)
    try:
        result = identify_file(con, media)
    except DecodeError as exc:
        out.print(f"[red]{media}: no decodable audio ({exc})[/red]", highlight=False)
        raise typer.Exit(2) from exc
    except IndexNotReady as exc:
        out.print(f"[red]{settings.warehouse_path()}: {exc}[/red]", highlight=False)
        raise typer.Exit(2) from exc
    finally:
        con.close()
    if json_out:
        out.print_json(json.dumps(result.as_dict(), default=str))
        return
    out.print(f"{result.path}: {result.duration_s:.1f} s, {result.outcome}: {result.detail}", highlight=False)
    if not result.sounds:
        return
    table = Table("sound", "role", "file s", "sound s", "speed", "score", "how", "origin post", "first seen", "posts",
                  "title")
    for h in result.sounds:
        table.add_row(h.sound_id, h.role, f"{h.file_start_s:.1f}–{h.file_end_s:.1f}",
                      f"{h.sound_start_s:.1f}–{h.sound_end_s:.1f}", f"{h.speed:.3g}", f"{h.score:.2f}", h.method,
                      h.origin_post_id or "", f"{h.first_seen_at:%Y-%m-%d %H:%M}" if h.first_seen_at else "",
                      str(h.n_posts or ""), h.title or "")
    out.print(table)


@app.command()
def days(landing: LandingOpt = None) -> None:
    """List the partition days present in the landing zone; invalid dt= folders go to stderr (exit 1)."""
    _configure(landing, None)
    valid, invalid = settings.scan_partitions()
    for d in valid:
        out.print(d.isoformat())
    if invalid:
        for p in invalid:
            console.print(f"invalid partition {p.describe()}", highlight=False, soft_wrap=True)
        raise typer.Exit(code=1)


if __name__ == "__main__":
    app()
