"""Analyst commands over the published copy: `sounds top`, `sound ID`, `lineage POST_ID`, `query SQL`.

They open `published/trendtrace.duckdb` read-only (never the live warehouse, which the pipeline holds locked
while it writes), so they work while the next run writes, and nothing typed can change data. Every command
prints rich tables by default, `--json` or `--csv` for scripts. Queries live in sql/explore/.
"""

from __future__ import annotations

import csv
import io
import json
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Any

import duckdb
import typer
from rich.console import Console
from rich.table import Table
from rich.tree import Tree

from pipelines import settings

STAGES = ("moment", "spark", "trend", "movement")
RELATION_STYLE = {"duet": "magenta", "stitch": "yellow", "sound_reuse": "cyan", "reupload": "red"}
SPARK_CHARS = "▁▂▃▄▅▆▇█"

out = Console(width=None if sys.stdout.isatty() else 200)
err = Console(stderr=True)

DbOpt = Annotated[
    Path | None,
    typer.Option("--db", help="DuckDB file to read (default: the published copy next to --warehouse)."),
]
WarehouseOpt = Annotated[
    Path | None,
    typer.Option("--warehouse", envvar=settings.ENV_WAREHOUSE,
                 help="Warehouse file; its published copy (published/<name>) is what is read."),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON instead of tables.")]
CsvOpt = Annotated[bool, typer.Option("--csv", help="Print CSV instead of tables.")]

sounds_app = typer.Typer(help="Sounds across the catalogue.", no_args_is_help=True, add_completion=False)


class NotFound(Exception):
    """An id that is not in the published copy; carries the closest ids to suggest."""

    def __init__(self, what: str, typed: str, suggestions: list[str]) -> None:
        self.what, self.typed, self.suggestions = what, typed, suggestions
        hint = f"; closest: {', '.join(suggestions)}" if suggestions else ""
        super().__init__(f"no {what} {typed!r} in the published copy{hint}")


# ---------------------------------------------------------------------------------------------------- reading


def database_path(db: Path | None = None, warehouse: Path | None = None) -> Path:
    """The file analysts read: --db as given, else the published copy of --warehouse / TRENDTRACE_WAREHOUSE."""
    if db is not None:
        return db
    from pipelines.stages.publish import published_path

    return published_path(warehouse or settings.warehouse_path())


@contextmanager
def open_published(path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """A read-only connection, closed afterwards (a process that keeps one open keeps seeing the copy it opened
    even after publish replaced the file: DuckDB caches database instances per path)."""
    if not path.is_file():
        raise FileNotFoundError(f"no published copy at {path}: run the pipeline (`trendtrace backfill`) first")
    con = duckdb.connect(str(path), read_only=True)
    try:
        con.execute("SET TimeZone = 'UTC'")
        yield con
    finally:
        con.close()


def rows(con: duckdb.DuckDBPyConnection, name: str, params: dict[str, Any] | None = None,
         folder: str = "explore") -> list[dict[str, Any]]:
    """The rows of the one query in sql/<folder>/<name>.sql as dicts, bound to the parameters it names."""
    from pipelines.warehouse import sql_text

    params = params or {}
    (statement,) = con.extract_statements(sql_text(f"{folder}/{name}"))
    cursor = con.execute(statement, {k: params[k] for k in statement.named_parameters})
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, r, strict=False)) for r in cursor.fetchall()]


def latest_day(con: duckdb.DuckDBPyConnection) -> date | None:
    return con.execute(_statement("latest_day")).fetchall()[0][0]


def _statement(name: str) -> str:
    from pipelines.warehouse import sql_text

    return sql_text(f"explore/{name}")


def resolve_sound(con: duckdb.DuckDBPyConnection, typed: str) -> str:
    """The canonical sound id for what the user typed (an id with or without 'snd-', or a merged sound's id)."""
    found = rows(con, "resolve_sound", {"sound_id": typed})
    if found:
        return found[0]["canonical_id"]
    near = rows(con, "closest_sounds", {"typed": typed, "n": 5})
    raise NotFound("sound", typed, [f"{r['sound_id']} ({r['title']})" if r["title"] else r["sound_id"] for r in near])


def resolve_post_root(con: duckdb.DuckDBPyConnection, post_id: str) -> str:
    found = rows(con, "post_root", {"post_id": post_id})
    if found:
        return found[0]["root_post_id"]
    near = rows(con, "closest_posts", {"typed": post_id, "n": 5})
    raise NotFound("post", post_id, [f"{r['post_id']} (@{r['author']})" for r in near])


# --------------------------------------------------------------------------------------------------- data sets


def top_sounds(
    con: duckdb.DuckDBPyConnection, day: date | None, n: int, stage: str | None
) -> tuple[date | None, list[dict]]:
    day = day or latest_day(con)
    return day, rows(con, "top_sounds", {"day": day, "n": n, "stage": stage})


def sound_profile(con: duckdb.DuckDBPyConnection, sound_id: str, n_cascades: int = 5) -> dict[str, Any]:
    """Everything `trendtrace sound` shows, as plain data (the --json document)."""
    canonical = resolve_sound(con, sound_id)
    origin = rows(con, "sound_origin", {"sound_id": canonical})
    return {
        "sound_id": canonical,
        "asked_for": sound_id,
        "origin": origin[0] if origin else None,
        "timeline": rows(con, "sound_timeline", {"sound_id": canonical}),
        "stage_changes": rows(con, "sound_stages", {"sound_id": canonical}),
        "versions": rows(con, "sound_versions", {"sound_id": canonical}),
        "cascades": rows(con, "sound_cascades", {"sound_id": canonical, "n": n_cascades}),
    }


@dataclass
class CascadeTree:
    root_post_id: str
    summary: dict[str, Any] | None
    nodes: list[dict[str, Any]]  # parents before children

    def children(self) -> dict[str | None, list[dict[str, Any]]]:
        kids: dict[str | None, list[dict[str, Any]]] = {}
        for node in self.nodes:
            kids.setdefault(node["parent_post_id"], []).append(node)
        return kids


def cascade_of(con: duckdb.DuckDBPyConnection, post_id: str) -> CascadeTree:
    root = resolve_post_root(con, post_id)
    summary = rows(con, "cascade_summary", {"root_post_id": root})
    nodes = rows(con, "cascade_nodes", {"root_post_id": root})
    for node in nodes:
        if isinstance(node["evidence"], str):
            node["evidence"] = json.loads(node["evidence"])
    return CascadeTree(root, summary[0] if summary else None, nodes)


def run_query(path: Path, sql: str) -> tuple[list[str], list[tuple]]:
    """Any SQL on the published copy, read-only: writes fail in DuckDB itself, not in a filter of ours."""
    with open_published(path) as con:
        cursor = con.execute(sql)
        if cursor.description is None:
            return [], []
        return [d[0] for d in cursor.description], cursor.fetchall()


# ----------------------------------------------------------------------------------------------------- output


def sparkline(values: Sequence[float | int | None]) -> str:
    """One block character per value, scaled to the largest (▁ for 0 or missing)."""
    numbers = [float(v or 0) for v in values]
    top = max(numbers, default=0.0)
    if top <= 0:
        return SPARK_CHARS[0] * len(numbers)
    return "".join(SPARK_CHARS[min(len(SPARK_CHARS) - 1, round(v / top * (len(SPARK_CHARS) - 1)))] for v in numbers)


def _jsonable(value: Any) -> Any:
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    return value


def print_json(document: Any) -> None:
    sys.stdout.write(json.dumps(_jsonable(document), indent=2, ensure_ascii=False) + "\n")


def print_csv(columns: Sequence[str], records: Sequence[Sequence[Any]]) -> None:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    for record in records:
        writer.writerow(["" if v is None else json.dumps(_jsonable(v)) if isinstance(v, (list, dict)) else
                         _jsonable(v) for v in record])
    sys.stdout.write(buffer.getvalue())


def _fmt(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.3g}"
    if isinstance(value, datetime):
        return f"{value:%Y-%m-%d %H:%M}"
    if isinstance(value, (list, tuple)):
        return ", ".join(_fmt(v) for v in value)
    return str(value)


def _table(title: str | None, records: list[dict[str, Any]], columns: Sequence[str] | None = None) -> Table:
    columns = list(columns or (records[0].keys() if records else []))
    table = Table(title=title)
    for name in columns:
        table.add_column(name)
    for record in records:
        table.add_row(*[_fmt(record.get(c)) for c in columns])
    return table


def _rank_change(value: int | None) -> str:
    if value is None:
        return "[blue]new[/blue]"
    if value > 0:
        return f"[green]▲{value}[/green]"
    if value < 0:
        return f"[red]▼{-value}[/red]"
    return "="


def _node_label(node: dict[str, Any], asked: str | None) -> str:
    relation = node["relation"] or "origin"
    style = RELATION_STYLE.get(relation, "bold")
    evidence = node["evidence"] or {}
    signals = ", ".join(evidence.get("signals", [])) if isinstance(evidence, dict) else ""
    conf = f" conf {node['confidence']:.2f}" if node["confidence"] is not None else ""
    why = f" [dim]{evidence.get('rule')}: {signals}[/dim]" if isinstance(evidence, dict) and evidence else ""
    # a parent the audio could not tell from other posts that open alike (docs/lineage.md): say how many
    alike = (f" [yellow]parent 1 of {evidence['audio_equivalent_count']} alike[/yellow]"
             if isinstance(evidence, dict) and evidence.get("audio_equivalent_count") else "")
    mark = " [reverse]◀ asked[/reverse]" if node["post_id"] == asked else ""
    return (f"[{style}]{relation}[/{style}] {node['post_id']} @{node['author']} {node['created_day']}"
            f"{conf}{alike} plays {node['plays'] or 0}{why}{mark}")


def render_tree(tree: CascadeTree, asked: str | None = None, max_nodes: int = 200) -> Tree:
    """The cascade as a rich tree, children in time order; beyond `max_nodes` the rest is counted, not drawn."""
    kids = tree.children()
    root_node = next(n for n in tree.nodes if n["parent_post_id"] is None)
    rich_root = Tree(_node_label(root_node, asked))
    shown = 1
    stack = [(root_node, rich_root)]
    while stack:
        node, branch = stack.pop(0)
        for child in kids.get(node["post_id"], []):
            if shown >= max_nodes:
                break
            stack.append((child, branch.add(_node_label(child, asked))))
            shown += 1
    if shown < len(tree.nodes):
        rich_root.add(f"[dim]… {len(tree.nodes) - shown} more posts (--max-nodes to show them)[/dim]")
    return rich_root


# --------------------------------------------------------------------------------------------------- commands


def _fail(exc: Exception) -> None:
    err.print(f"[red]{exc}[/red]", highlight=False)
    raise typer.Exit(code=2) from exc


def _only_one(json_out: bool, csv_out: bool) -> None:
    if json_out and csv_out:
        raise typer.BadParameter("--json and --csv are exclusive")


@sounds_app.command("top")
def sounds_top(
    day: Annotated[str | None, typer.Option("--day", help="Day YYYY-MM-DD (default: the latest day).")] = None,
    n: Annotated[int, typer.Option("--n", min=1, help="How many sounds.")] = 20,
    stage: Annotated[
        str | None, typer.Option("--stage", help="Only this stage: moment, spark, trend, movement.")
    ] = None,
    db: DbOpt = None,
    warehouse: WarehouseOpt = None,
    json_out: JsonOpt = False,
    csv_out: CsvOpt = False,
) -> None:
    """The day's top sounds by new creators: stage, growth, rank and rank change since the day before."""
    _only_one(json_out, csv_out)
    if stage is not None and stage not in STAGES:
        raise typer.BadParameter(f"--stage must be one of {', '.join(STAGES)}, not {stage!r}")
    wanted = date.fromisoformat(day) if day else None
    try:
        with open_published(database_path(db, warehouse)) as con:
            shown_day, found = top_sounds(con, wanted, n, stage)
    except FileNotFoundError as exc:
        _fail(exc)
    if json_out:
        print_json({"day": shown_day, "stage": stage, "sounds": found})
        return
    if csv_out:
        columns = list(found[0]) if found else ["rank", "sound_id"]
        print_csv(columns, [list(r.values()) for r in found])
        return
    table = Table(title=f"Top sounds on {shown_day}" + (f" ({stage})" if stage else ""))
    for name in ("#", "±", "sound", "title", "stage", "new creators", "7d creators", "all creators", "growth 7d"):
        table.add_column(name)
    for r in found:
        stage_text = r["stage"] + (f" [bold green](was {r['from_stage']})[/bold green]" if r["from_stage"] else "")
        table.add_row(str(r["rank"]), _rank_change(r["rank_change"]), r["sound_id"], r["title"] or "", stage_text,
                      str(r["new_creators"]), str(r["creators_7d"] or 0), str(r["cum_creators"]), _fmt(r["growth_7d"]))
    out.print(table)
    if not found:
        out.print(f"no sounds on {shown_day}" + (f" in stage {stage}" if stage else ""))


def sound(
    sound_id: Annotated[str, typer.Argument(help="Sound id (snd-…, the prefix may be left out).")],
    cascades: Annotated[int, typer.Option("--cascades", min=1, help="Biggest cascades to list.")] = 5,
    db: DbOpt = None,
    warehouse: WarehouseOpt = None,
    json_out: JsonOpt = False,
    csv_out: CsvOpt = False,
) -> None:
    """One sound: who started it, its timeline (sparkline), stage history, versions and biggest cascades."""
    _only_one(json_out, csv_out)
    try:
        with open_published(database_path(db, warehouse)) as con:
            profile = sound_profile(con, sound_id, cascades)
    except (FileNotFoundError, NotFound) as exc:
        _fail(exc)
    if json_out:
        print_json(profile)
        return
    if csv_out:
        timeline = profile["timeline"]
        print_csv(list(timeline[0]) if timeline else ["day"], [list(r.values()) for r in timeline])
        return
    origin = profile["origin"] or {}
    timeline = profile["timeline"]
    out.print(f"[bold]{profile['sound_id']}[/bold]  {origin.get('title') or ''}", highlight=False)
    if profile["asked_for"] not in (profile["sound_id"], profile["sound_id"].removeprefix("snd-")):
        out.print(f"({profile['asked_for']} was merged into it)", highlight=False)
    out.print(f"started by @{origin.get('origin_author')} in post {origin.get('origin_post_id')} on "
              f"{_fmt(origin.get('origin_created_at'))}"
              + ("" if origin.get("origin_observed", True) else " [yellow](the real origin was not observed)[/yellow]"),
              highlight=False)
    if origin.get("first_reusers"):
        out.print(f"first picked up by: {', '.join('@' + a for a in origin['first_reusers'])}", highlight=False)
    for kind in ("duet", "stitch"):
        if origin.get(f"first_{kind}_post_id"):
            out.print(f"first {kind}: {origin[f'first_{kind}_post_id']} by @{origin[f'first_{kind}_author']} "
                      f"on {_fmt(origin[f'first_{kind}_at'])}", highlight=False)
    if timeline:
        out.print(f"new creators/day {timeline[0]['day']} → {timeline[-1]['day']}: "
                  f"[bold]{sparkline([r['new_creators'] for r in timeline])}[/bold]  "
                  f"({timeline[-1]['cum_creators']} creators, {timeline[-1]['cum_posts']} posts, "
                  f"stage {timeline[-1]['stage']})", highlight=False)
        out.print(_table("Timeline", timeline, ["day", "new_posts", "new_creators", "cum_creators", "growth_7d",
                                                "robust_z", "stage", "alerts"]))
    out.print(_table("Stage history", profile["stage_changes"], ["day", "from_stage", "to_stage"]))
    days_to = {k: origin.get(f"days_to_{k}") for k in ("spark", "trend", "movement")}
    out.print("days from moment to: " + ", ".join(f"{k} {'–' if v is None else v}" for k, v in days_to.items()),
              highlight=False)
    out.print(_table("Versions", profile["versions"], ["version", "speed", "pitch_semitones", "edit",
                                                       "heard_as_sound_id", "n_posts", "n_creators",
                                                       "platform_music_ids", "first_post_id"]))
    out.print(_table("Biggest cascades", profile["cascades"], ["root_post_id", "root_author", "size", "creators",
                                                               "depth", "structural_virality", "n_duets",
                                                               "n_stitches", "n_reuses", "n_reuploads"]))


def lineage(
    post_id: Annotated[str, typer.Argument(help="Any post of the cascade (its root or a descendant).")],
    max_nodes: Annotated[int, typer.Option("--max-nodes", min=1, help="Posts to draw before collapsing.")] = 200,
    db: DbOpt = None,
    warehouse: WarehouseOpt = None,
    json_out: JsonOpt = False,
    csv_out: CsvOpt = False,
) -> None:
    """The cascade a post belongs to, as a tree: relation, author, day, confidence and evidence of every link."""
    _only_one(json_out, csv_out)
    try:
        with open_published(database_path(db, warehouse)) as con:
            tree = cascade_of(con, post_id)
    except (FileNotFoundError, NotFound) as exc:
        _fail(exc)
    if json_out:
        print_json({"post_id": post_id, "root_post_id": tree.root_post_id, "cascade": tree.summary,
                    "nodes": tree.nodes})
        return
    if csv_out:
        columns = ["post_id", "parent_post_id", "depth", "relation", "author", "created_day", "confidence", "plays",
                   "evidence"]
        print_csv(columns, [[n[c] for c in columns] for n in tree.nodes])
        return
    s = tree.summary or {}
    out.print(f"cascade of {tree.root_post_id}: {s.get('size', len(tree.nodes))} posts, {s.get('creators')} creators, "
              f"depth {s.get('depth')}, structural virality {_fmt(s.get('structural_virality'))}, sound "
              f"{s.get('sound_id')}", highlight=False)
    out.print(render_tree(tree, asked=post_id, max_nodes=max_nodes), highlight=False)


def query(
    sql: Annotated[str, typer.Argument(help="SQL to run on the published copy (read-only).")],
    db: DbOpt = None,
    warehouse: WarehouseOpt = None,
    json_out: JsonOpt = False,
    csv_out: CsvOpt = False,
    limit: Annotated[int, typer.Option("--limit", min=1, help="Rows to print in the table view.")] = 100,
) -> None:
    """Run SQL on the published copy, opened read-only (writes are refused by DuckDB). Views: v_top_sounds,
    v_sound_timeline, v_sound_origin, v_cascade_tree, v_sound_versions (docs/schema.md)."""
    _only_one(json_out, csv_out)
    try:
        columns, records = run_query(database_path(db, warehouse), sql)
    except FileNotFoundError as exc:
        _fail(exc)
    except duckdb.Error as exc:
        _fail(exc)
    if json_out:
        print_json([dict(zip(columns, r, strict=False)) for r in records])
        return
    if csv_out:
        print_csv(columns, records)
        return
    table = Table(*columns)
    for record in records[:limit]:
        table.add_row(*[_fmt(v) for v in record])
    out.print(table)
    more = f" (first {limit} shown)" if len(records) > limit else ""
    out.print(f"{len(records)} rows{more}", highlight=False)


def register(app: typer.Typer) -> None:
    """Mount the analyst commands on the `trendtrace` app (pipelines/cli.py calls this once)."""
    app.add_typer(sounds_app, name="sounds")
    app.command("sound")(sound)
    app.command("lineage")(lineage)
    app.command("query")(query)
    try:
        from pipelines.report.cli import report
    except ImportError:  # the report package is optional for the other commands
        return
    app.command("report")(report)
