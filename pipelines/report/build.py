"""The daily report: one self-contained HTML file (inline CSS and SVG, no script, nothing fetched) that an
analyst can mail or open offline: the day in numbers, the top rising sounds, adoption curves with stage bands
and alert markers, the origin story and cascade tree of every sound that changed stage, structural virality
against size, versions, and the day's alerts (each with an anchor the charts link to)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import duckdb

from pipelines.explore import latest_day, rows
from pipelines.report import svg
from pipelines.report.svg import esc

N_TOP = 10
N_CURVES = 6
CSS = """
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;color:#1f2933;margin:0;background:#f5f7fa}
main{max-width:1100px;margin:0 auto;padding:24px}
h1{font-size:24px;margin:0 0 4px}h2{font-size:18px;margin:28px 0 8px;border-bottom:2px solid #e4e7eb;padding-bottom:4px}
h3{font-size:15px;margin:16px 0 6px}.sub{color:#616e7c}
.cards{display:flex;flex-wrap:wrap;gap:10px;margin:14px 0}.card{background:#fff;border-radius:8px;padding:10px 14px;
box-shadow:0 1px 2px #0001;min-width:110px}.card b{display:block;font-size:22px}.card span{color:#616e7c;font-size:12px}
table{border-collapse:collapse;background:#fff;width:100%;font-size:13px}th,td{padding:5px 8px;border-bottom:1px solid #e4e7eb;
text-align:left;vertical-align:middle}th{background:#f0f4f8;font-weight:600}td.num{text-align:right;font-variant-numeric:tabular-nums}
.grid-charts{display:flex;flex-wrap:wrap;gap:12px}.grid-charts svg{background:#fff;border-radius:8px}
.story{background:#fff;border-radius:8px;padding:12px 16px;margin:12px 0;box-shadow:0 1px 2px #0001}
.tree-wrap{overflow-x:auto;border:1px solid #e4e7eb;border-radius:6px;margin-top:8px}
.legend{display:flex;gap:14px;flex-wrap:wrap;font-size:12px;color:#3e4c59;margin:4px 0}.key svg{vertical-align:-1px}
.stage{display:inline-block;padding:1px 7px;border-radius:9px;font-size:12px}.up{color:#1b873f}.down{color:#c62828}
.ctitle{font-size:12px;font-weight:600;fill:#1f2933}.axis{font-size:10px;fill:#616e7c}.grid{stroke:#0000000f}
.axisline{stroke:#9aa5b1}.nlabel{font-size:10px;fill:#3e4c59;paint-order:stroke;stroke:#fff;stroke-width:3px;stroke-linejoin:round}.muted{color:#7b8794}
tr:target{background:#fff3c4}
"""  # noqa: E501


def _stage(stage: str | None) -> str:
    if not stage:
        return ""
    return f'<span class="stage" style="background:{svg.STAGE_COLOURS.get(stage, "#eee")}">{esc(stage)}</span>'


def _num(value: Any, digits: int = 2) -> str:
    if value is None:
        return '<span class="muted">–</span>'
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return esc(value)


def _change(value: int | None) -> str:
    if value is None:
        return '<span class="muted">new</span>'
    if value > 0:
        return f'<span class="up">▲{value}</span>'
    if value < 0:
        return f'<span class="down">▼{-value}</span>'
    return "="


def _summary(s: dict[str, Any], day: date) -> str:
    cards = [("posts", s["posts"]), ("creators", s["creators"]), ("active sounds", s["active_sounds"]),
             ("new sounds", s["new_sounds"]), ("links", s["links"]), ("stage changes", s["stage_changes"]),
             ("alerts", s["alerts"]), ("sparks", s["n_spark"]), ("trends", s["n_trend"]),
             ("movements", s["n_movement"])]
    body = "".join(f'<div class="card"><b>{esc(v)}</b><span>{esc(k)}</span></div>' for k, v in cards)
    return f'<section id="summary"><div class="cards">{body}</div></section>'


def _top_table(top: list[dict[str, Any]], sparks: dict[str, list[int]]) -> str:
    head = ("<tr><th>#</th><th>±</th><th>sound</th><th>stage</th><th>new creators</th><th>7-day creators</th>"
            "<th>all creators</th><th>growth 7d</th><th>new creators per day</th></tr>")
    body = []
    for r in top:
        was = f' <span class="muted">(was {esc(r["from_stage"])})</span>' if r["from_stage"] else ""
        body.append(f'<tr><td class="num">{r["rank"]}</td><td>{_change(r["rank_change"])}</td>'
                    f'<td><a href="#curve-{esc(r["sound_id"])}">{esc(r["title"] or r["sound_id"])}</a><br>'
                    f'<span class="muted">{esc(r["sound_id"])}</span></td><td>{_stage(r["stage"])}{was}</td>'
                    f'<td class="num">{r["new_creators"]}</td><td class="num">{r["creators_7d"] or 0}</td>'
                    f'<td class="num">{r["cum_creators"]}</td><td class="num">{_num(r["growth_7d"])}</td>'
                    f'<td>{svg.sparkline(sparks.get(r["sound_id"], []))}</td></tr>')
    return f"<table>{head}{''.join(body)}</table>"


def _story(con: duckdb.DuckDBPyConnection, change: dict[str, Any], day: date, max_nodes: int) -> str:
    o = change
    title = esc(o["title"] or o["sound_id"])
    moved = (f'{_stage(o["from_stage"])} → {_stage(o["to_stage"])}' if o["from_stage"]
             else f'entered as {_stage(o["to_stage"])}')
    plays = f' ({o["origin_plays"]} plays)' if o["origin_plays"] is not None else ""
    unobserved = "" if o["origin_observed"] else " — <i>the true origin was never exported</i>"
    lines = [(f'<p>Started by <b>@{esc(o["origin_author"])}</b> in post <code>{esc(o["origin_post_id"])}</code> on '
             f'{esc(o["origin_created_at"])}{plays}{unobserved}.</p>')]
    if o["first_reusers"]:
        lines.append(f'<p>First picked up by {", ".join("@" + esc(a) for a in o["first_reusers"])} '
                     f'(first reuse {esc(o["first_reuse_at"])}).</p>')
    firsts = [f'first {k}: <code>{esc(o[f"first_{k}_post_id"])}</code> by @{esc(o[f"first_{k}_author"])} on '
              f'{esc(o[f"first_{k}_at"])}' for k in ("duet", "stitch") if o[f"first_{k}_post_id"]]
    if firsts:
        lines.append("<p>" + "; ".join(firsts) + ".</p>")
    steps = ", ".join(f"{k} after {o[f'days_to_{k}']} day{'' if o[f'days_to_{k}'] == 1 else 's'}"
                      for k in ("spark", "trend", "movement") if o[f"days_to_{k}"] is not None)
    lines.append(f'<p>{o["n_posts"]} posts by {o["n_creators"]} creators by {day}'
                 + (f"; from moment to {steps}" if steps else "") + ".</p>")
    biggest = rows(con, "sound_cascades", {"sound_id": o["sound_id"], "n": 1})
    tree = ""
    if biggest:
        b = biggest[0]
        nodes = _report_rows(con, "tree_nodes", {"root_post_id": b["root_post_id"], "day": day})
        if nodes:
            shown = min(len(nodes), max_nodes)
            more = f", the first {shown} drawn" if shown < len(nodes) else ""
            authors = len({n["author"] for n in nodes})
            tree = (f'<h3>Its biggest cascade on {day}: {len(nodes)} posts by {authors} creators, depth '
                    f'{max(n["depth"] for n in nodes)}{more} (root <code>{esc(b["root_post_id"])}</code>; size '
                    f'{b["size"]}, structural virality {_num(b["structural_virality"])} by the latest run)</h3>'
                    f'{svg.legend({k.replace("_", " "): v for k, v in svg.RELATION_COLOURS.items()})}'
                    f'<div class="tree-wrap" data-root="{esc(b["root_post_id"])}" data-size="{len(nodes)}">'
                    f'{svg.cascade_tree(nodes, max_nodes=max_nodes)}</div>')
    return (f'<article class="story" id="story-{esc(o["sound_id"])}"><h3>{title} <span class="muted">'
            f'{esc(o["sound_id"])}</span> — {moved}</h3>{"".join(lines)}{tree}</article>')


def _report_rows(con: duckdb.DuckDBPyConnection, name: str, params: dict[str, Any]) -> list[dict[str, Any]]:
    return rows(con, name, params, folder="report")


def _versions_table(con: duckdb.DuckDBPyConnection, sound_ids: list[str]) -> str:
    head = ("<tr><th>sound</th><th>version</th><th>speeds</th><th>edits</th><th>posts</th>"
            "<th>platform music ids</th><th>first post</th></tr>")
    body = []
    for v in _report_rows(con, "versions", {"sound_ids": sound_ids}):
        ids = v["platform_music_ids"] or []
        shown = ", ".join(ids[:3]) + (f" … (+{len(ids) - 3})" if len(ids) > 3 else "")
        body.append(f'<tr><td>{esc(v["title"] or v["sound_id"])}</td><td>{esc(v["version"])}</td>'
                    f'<td>{esc(", ".join(f"×{x:.2f}" for x in v["speeds"]))}</td><td>{esc(", ".join(v["edits"]))}</td>'
                    f'<td class="num">{v["n_posts"]}</td><td>{len(ids)}: {esc(shown)}</td>'
                    f'<td><code>{esc(v["first_post_id"])}</code></td></tr>')
    return f"<table>{head}{''.join(body)}</table>" if body else '<p class="muted">No versions.</p>'


def _alerts_table(alerts: list[dict[str, Any]]) -> str:
    if not alerts:
        return '<p class="muted">No alert crossed on this day.</p>'
    head = "<tr><th>id</th><th>sound</th><th>rule</th><th>crossing</th><th>value</th><th>status</th></tr>"
    body = "".join(
        f'<tr id="alert-{a["alert_id"]}"><td>{a["alert_id"]}</td><td><a href="#curve-{esc(a["sound_id"])}">'
        f'{esc(a["title"] or a["sound_id"])}</a></td><td>{esc(a["rule"])} ({esc(a["kind"])})</td>'
        f'<td>{esc(a["label"])}</td><td class="num">{_num(a["value"])}</td><td>{esc(a["status"])}</td></tr>'
        for a in alerts)
    return f"<table>{head}{body}</table>"


def build_report(con: duckdb.DuckDBPyConnection, day: date | None = None, max_nodes: int = 60) -> tuple[date, str]:
    """The report for `day` (default: the latest day) as one HTML document; returns (day, html)."""
    day = day or latest_day(con)
    if day is None:
        raise ValueError("the warehouse has no adoption rows yet: run the pipeline first")
    summary = _report_rows(con, "day_summary", {"day": day})[0]
    if not summary["first_day"] or not (summary["first_day"] <= day <= summary["last_day"]):
        raise ValueError(f"no data for {day}: the warehouse covers {summary['first_day']} … {summary['last_day']}")
    top = rows(con, "top_sounds", {"day": day, "n": N_TOP, "stage": None})
    changes = _report_rows(con, "stage_changes", {"day": day})
    alerts = _report_rows(con, "day_alerts", {"day": day})
    featured: list[str] = []
    for sid in [c["sound_id"] for c in changes] + [a["sound_id"] for a in alerts] + [t["sound_id"] for t in top]:
        if sid not in featured:
            featured.append(sid)
    curve_ids = featured[:N_CURVES]
    all_ids = list(dict.fromkeys(curve_ids + [t["sound_id"] for t in top]))
    curves = _report_rows(con, "curves", {"sound_ids": all_ids, "day": day})
    first = summary["first_day"]
    days = [first + timedelta(days=i) for i in range((day - first).days + 1)]
    by_sound: dict[str, list[dict[str, Any]]] = {}
    for r in curves:
        by_sound.setdefault(r["sound_id"], []).append(r)
    sparks = {sid: [next((r["new_creators"] for r in rs if r["day"] == d), 0) for d in days]
              for sid, rs in by_sound.items()}
    charts = "".join(svg.adoption_chart(by_sound[sid][0]["title"] or sid, f"curve-{sid}", days, by_sound[sid])
                     for sid in curve_ids if sid in by_sound)
    stories = "".join(_story(con, c, day, max_nodes) for c in changes) or \
        '<p class="muted">No sound changed stage on this day.</p>'
    scatter_points = _report_rows(con, "cascades_scatter", {"day": day})
    scatter = (svg.scatter_chart(scatter_points, set(featured[:N_CURVES])) if scatter_points
               else '<p class="muted">No cascade of two posts or more yet.</p>')
    html = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>trendtrace daily report {day}</title><style>{CSS}</style></head>
<body><main>
<h1>trendtrace daily report — {day}</h1>
<p class="sub">Sounds identified by their audio, linked into cascades; data {first} … {summary["last_day"]}.
Stages: moment → spark → trend → movement.</p>
{_summary(summary, day)}
<h2 id="top">Top rising sounds</h2>
<p class="sub">Ranked by creators new to the sound that day; ± is the change of rank since the day before.</p>
{_top_table(top, sparks)}
<h2 id="curves">Adoption curves</h2>
<p class="sub">Creators so far (line) and new creators per day (bars) over the stage of each day; a red diamond is
an alert (linked to the table below).</p>
{svg.legend(svg.STAGE_COLOURS, shape="rect")}
<div class="grid-charts">{charts}</div>
<h2 id="stories">Origin stories: sounds that changed stage</h2>
{stories}
<h2 id="virality">Structural virality against size</h2>
<p class="sub">Each dot is a cascade: broadcast trees (one post, many direct reuses) stay low, chains of people
answering people climb. Red: the sounds featured above.</p>
{scatter}
<h2 id="versions">Versions of the featured sounds</h2>
{_versions_table(con, [sid for sid in curve_ids if sid in by_sound])}
<h2 id="alerts">Alerts of the day</h2>
{_alerts_table(alerts)}
<p class="sub">Generated by <code>trendtrace report --day {day}</code> from the published copy.</p>
</main></body></html>
"""
    return day, html
