"""Hand-written inline SVG for the daily report: no plotting library, no script, no external resource, so the
file opens offline anywhere and every mark is an element a test can count (class "mark")."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from html import escape
from typing import Any

STAGE_COLOURS = {"moment": "#eef1f5", "spark": "#fff1c9", "trend": "#ffd7b0", "movement": "#ffb9b0"}
RELATION_COLOURS = {"origin": "#1f2933", "sound_reuse": "#2b8a8a", "duet": "#8a4fd1", "stitch": "#e8871e",
                    "reupload": "#d64545"}
LINE = "#2457b8"


def esc(value: Any) -> str:
    return escape("" if value is None else str(value), quote=True)


def _fmt(x: float) -> str:
    return f"{x:.1f}"


def sparkline(values: Sequence[float | int | None], width: int = 120, height: int = 24) -> str:
    """A polyline of the values, scaled to the largest; one point for a single day."""
    numbers = [float(v or 0) for v in values]
    top = max(numbers, default=0.0) or 1.0
    step = width / max(1, len(numbers) - 1)
    points = " ".join(f"{_fmt(i * step)},{_fmt(height - 2 - (v / top) * (height - 4))}" for i, v in enumerate(numbers))
    if len(numbers) == 1:
        return (f'<svg class="chart spark" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
                f'role="img"><circle class="mark" cx="{width / 2}" cy="{height / 2}" r="2.5" fill="{LINE}"/></svg>')
    return (f'<svg class="chart spark" width="{width}" height="{height}" viewBox="0 0 {width} {height}" role="img">'
            f'<polyline class="mark" fill="none" stroke="{LINE}" stroke-width="1.6" points="{points}"/></svg>')


def adoption_chart(title: str, anchor_id: str, days: list[date], rows: list[dict[str, Any]],
                   width: int = 420, height: int = 190) -> str:
    """Cumulative creators (line) and new creators (bars) per day over stage-coloured day bands; an alert is a
    red diamond on its day, linked to its row in the alerts table."""
    left, right, top, bottom = 40, 10, 24, 28
    plot_w, plot_h = width - left - right, height - top - bottom
    by_day = {r["day"]: r for r in rows}
    n = max(1, len(days))
    band = plot_w / n
    top_value = max([r["cum_creators"] for r in rows] + [1])
    scale = plot_h / (top_value * 1.1)

    def x(i: int) -> float:
        return left + band * (i + 0.5)

    def y(v: float) -> float:
        return top + plot_h - v * scale

    parts = [(f'<svg class="chart adoption" id="{esc(anchor_id)}" width="{width}" height="{height}" '
             f'viewBox="0 0 {width} {height}" role="img" aria-label="{esc(title)}">'),
             f'<text x="{left}" y="15" class="ctitle">{esc(title)}</text>']
    for i, d in enumerate(days):
        r = by_day.get(d)
        if r is None:
            continue
        parts.append(f'<rect class="band" x="{_fmt(left + band * i)}" y="{top}" width="{_fmt(band)}" height="{plot_h}" '
                     f'fill="{STAGE_COLOURS.get(r["stage"], "#fff")}">'
                     f'<title>{esc(d)}: {esc(r["stage"])}</title></rect>')
    parts.extend(
        f'<line x1="{left}" x2="{left + plot_w}" y1="{_fmt(y(tick))}" y2="{_fmt(y(tick))}" class="grid"/>'
        f'<text x="{left - 4}" y="{_fmt(y(tick) + 3)}" class="axis" text-anchor="end">{tick}</text>'
        for tick in _ticks(top_value)
    )
    for i, d in enumerate(days):
        r = by_day.get(d)
        if r is not None and r["new_creators"]:
            h = r["new_creators"] * scale
            parts.append(f'<rect class="mark bar" x="{_fmt(x(i) - band * 0.2)}" y="{_fmt(y(0) - h)}" '
                         f'width="{_fmt(band * 0.4)}" height="{_fmt(h)}" fill="#9db4e0">'
                         f'<title>{esc(d)}: {r["new_creators"]} new creators</title></rect>')
    points = [(x(i), y(by_day[d]["cum_creators"])) for i, d in enumerate(days) if d in by_day]
    if len(points) > 1:
        parts.append(f'<polyline class="mark line" fill="none" stroke="{LINE}" stroke-width="2" '
                     f'points="{" ".join(f"{_fmt(a)},{_fmt(b)}" for a, b in points)}"/>')
    for (px, py), d in zip(points, [d for d in days if d in by_day], strict=False):
        r = by_day[d]
        parts.append(f'<circle class="mark point" cx="{_fmt(px)}" cy="{_fmt(py)}" r="2.5" fill="{LINE}">'
                     f'<title>{esc(d)}: {r["cum_creators"]} creators, {esc(r["stage"])}</title></circle>')
        for alert_id, label in zip(r.get("alert_ids") or [], r.get("alerts") or [], strict=False):
            parts.append(f'<a href="#alert-{alert_id}"><path class="mark alert" d="M{_fmt(px)} {_fmt(py - 11)} '
                         f'l5 5 l-5 5 l-5 -5 z" fill="#d64545">'
                         f'<title>alert {alert_id}: {esc(label)}</title></path></a>')
    for i, d in enumerate(days):
        if n <= 10 or i % math.ceil(n / 10) == 0:
            parts.append(f'<text x="{_fmt(x(i))}" y="{height - 10}" class="axis" text-anchor="middle">'
                         f'{d:%m-%d}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _ticks(top_value: float) -> list[int]:
    step = max(1, 10 ** math.floor(math.log10(max(top_value, 1))))
    if top_value / step < 3:
        step = max(1, step // 2)
    return list(range(0, int(top_value) + 1, int(step)))


def scatter_chart(points: list[dict[str, Any]], highlight: set[str], width: int = 560, height: int = 300) -> str:
    """Structural virality against cascade size (log scale): broadcast trees lie low, person-to-person chains
    climb. Highlighted sounds' cascades are drawn in red and labelled."""
    left, right, top, bottom = 46, 14, 20, 36
    plot_w, plot_h = width - left - right, height - top - bottom
    max_size = max([p["size"] for p in points] + [2])
    max_sv = max([p["structural_virality"] for p in points] + [1.0])

    def x(size: float) -> float:
        return left + plot_w * math.log10(size) / math.log10(max_size * 1.2)

    def y(sv: float) -> float:
        return top + plot_h - plot_h * sv / (max_sv * 1.1)

    parts = [(f'<svg class="chart scatter" width="{width}" height="{height}" viewBox="0 0 {width} {height}" role="img" '
             f'aria-label="structural virality against size">'),
             f'<line class="axisline" x1="{left}" y1="{top + plot_h}" x2="{left + plot_w}" y2="{top + plot_h}"/>',
             f'<line class="axisline" x1="{left}" y1="{top}" x2="{left}" y2="{top + plot_h}"/>',
             (f'<text x="{left + plot_w / 2}" y="{height - 4}" class="axis" text-anchor="middle">cascade size (posts, '
             f'log scale)</text>'),
             (f'<text x="12" y="{top + plot_h / 2}" class="axis" text-anchor="middle" '
             f'transform="rotate(-90 12 {top + plot_h / 2})">structural virality</text>')]
    parts.extend(
        f'<line x1="{left}" x2="{left + plot_w}" y1="{_fmt(y(tick))}" y2="{_fmt(y(tick))}" class="grid"/>'
        f'<text x="{left - 4}" y="{_fmt(y(tick) + 3)}" class="axis" text-anchor="end">{tick}</text>'
        for tick in _ticks(max_sv * 1.05)
    )
    size = 1
    while size <= max_size * 1.2:
        parts.extend(
            f'<text x="{_fmt(x(tick))}" y="{top + plot_h + 14}" class="axis" '
            f'text-anchor="middle">{tick}</text>'
            for tick in (size, 2 * size, 5 * size)
            if 2 <= tick <= max_size * 1.2
        )
        size *= 10
    for p in sorted(points, key=lambda p: p["sound_id"] in highlight):
        hot = p["sound_id"] in highlight
        parts.append(f'<circle class="mark dot" cx="{_fmt(x(p["size"]))}" cy="{_fmt(y(p["structural_virality"]))}" '
                     f'r="{4 if hot else 3}" fill="{"#d64545" if hot else "#7b8794"}" fill-opacity="0.8">'
                     f'<title>{esc(p["title"] or p["sound_id"])}: {p["size"]} posts, structural virality '
                     f'{p["structural_virality"]:.2f}, depth {p["depth"]} (root {esc(p["root_post_id"])})</title>'
                     f'</circle>')
    parts.append("</svg>")
    return "".join(parts)


@dataclass
class _Node:
    post_id: str
    parent: str | None
    relation: str
    author: str
    day: Any
    plays: int
    confidence: float | None
    hidden: int = 0  # a "+k more" node stands for k collapsed posts
    y: float = 0.0
    depth: int = 0


def cascade_tree(nodes: list[dict[str, Any]], max_nodes: int = 60, label_limit: int = 40) -> str:
    """The cascade drawn left to right (root at the left, one column per hop), each post a circle coloured by
    its relation and sized by its plays. Past `max_nodes` posts (in breadth-first order) the rest are
    collapsed into one grey "+k" node under their nearest drawn ancestor."""
    kept = nodes[:max_nodes]  # ordered by depth: every kept post's parent is kept
    kept_ids = {n["post_id"] for n in kept}
    by_id = {n["post_id"]: n for n in nodes}
    drawn = {n["post_id"]: _Node(n["post_id"], n["parent_post_id"], n["relation"] or "origin", n["author"],
                                 n["created_day"], int(n["plays"] or 0), n["confidence"], depth=n["depth"])
             for n in kept}
    collapsed: dict[str, int] = {}
    for n in nodes[max_nodes:]:
        ancestor = n["parent_post_id"]
        while ancestor not in kept_ids:
            ancestor = by_id[ancestor]["parent_post_id"]
        collapsed[ancestor] = collapsed.get(ancestor, 0) + 1
    for ancestor, count in collapsed.items():
        key = f"more-{ancestor}"
        drawn[key] = _Node(key, ancestor, "collapsed", "", None, 0, None, hidden=count,
                           depth=drawn[ancestor].depth + 1)
    children: dict[str | None, list[_Node]] = {}
    for node in drawn.values():
        children.setdefault(node.parent, []).append(node)
    root = next(n for n in drawn.values() if n.parent is None)
    row = [0]

    def place(node: _Node) -> None:  # leaves take consecutive rows, parents sit at their children's middle
        kids = children.get(node.post_id, [])
        if not kids:
            node.y = row[0]
            row[0] += 1
            return
        for kid in kids:
            place(kid)
        node.y = (kids[0].y + kids[-1].y) / 2

    place(root)
    depth = max(n.depth for n in drawn.values())
    col, gap, left, top = 150, 22, 130, 16  # the root's label sits left of it, clear of its edges
    width = left + col * depth + 170
    height = top * 2 + gap * max(1, row[0] - 1) + 10
    labels = len(kept) <= label_limit
    parts = [(f'<svg class="chart tree" width="{width}" height="{height}" viewBox="0 0 {width} {height}" role="img" '
             f'data-nodes="{len(kept)}" data-hidden="{sum(collapsed.values())}" aria-label="cascade tree">')]

    def pos(node: _Node) -> tuple[float, float]:
        return left + 10 + col * node.depth, top + gap * node.y

    for node in drawn.values():
        if node.parent is not None:
            (x1, y1), (x2, y2) = pos(drawn[node.parent]), pos(node)
            colour = RELATION_COLOURS.get(node.relation, "#9aa5b1")
            parts.append(f'<path class="edge" d="M{_fmt(x1)} {_fmt(y1)} C{_fmt((x1 + x2) / 2)} {_fmt(y1)} '
                         f'{_fmt((x1 + x2) / 2)} {_fmt(y2)} {_fmt(x2)} {_fmt(y2)}" stroke="{colour}" fill="none" '
                         f'stroke-width="1.4" stroke-opacity="0.7"/>')
    for node in drawn.values():
        x, y = pos(node)
        if node.hidden:
            parts.append(f'<g class="collapsed"><rect x="{_fmt(x - 4)}" y="{_fmt(y - 8)}" '
                         f'width="58" height="16" rx="8" '
                         f'fill="#cbd2d9"/><text x="{_fmt(x + 25)}" y="{_fmt(y + 4)}" class="axis" '
                         f'text-anchor="middle">+{node.hidden} more</text></g>')
            continue
        radius = 3.5 + 2.2 * math.log10(1 + node.plays)
        conf = f", confidence {node.confidence:.2f}" if node.confidence is not None else ""
        parts.append(f'<circle class="mark node" data-post="{esc(node.post_id)}" data-relation="{esc(node.relation)}" '
                     f'cx="{_fmt(x)}" cy="{_fmt(y)}" r="{_fmt(radius)}" fill="{RELATION_COLOURS.get(node.relation)}">'
                     f'<title>{esc(node.relation)} {esc(node.post_id)} by @{esc(node.author)} on {esc(node.day)}, '
                     f'{node.plays} plays{conf}</title></circle>')
        if node.parent is None:
            parts.append(f'<text x="{_fmt(x - radius - 4)}" y="{_fmt(y + 3.5)}" class="nlabel" text-anchor="end">'
                         f'@{esc(node.author)}</text>')
        elif labels:
            parts.append(f'<text x="{_fmt(x + radius + 3)}" y="{_fmt(y + 3.5)}" class="nlabel">@{esc(node.author)}'
                         f'</text>')
    parts.append("</svg>")
    return "".join(parts)


def legend(colours: dict[str, str], shape: str = "circle") -> str:
    items = []
    for name, colour in colours.items():
        mark = (f'<circle cx="6" cy="6" r="5" fill="{colour}"/>' if shape == "circle" else
                f'<rect x="0" y="0" width="12" height="12" fill="{colour}" stroke="#cbd2d9"/>')
        items.append(
            f'<span class="key"><svg width="12" height="12" viewBox="0 0 12 12">{mark}</svg> {esc(name)}</span>'
        )
    return f'<div class="legend">{"".join(items)}</div>'
