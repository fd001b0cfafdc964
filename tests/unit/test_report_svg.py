"""The report's hand-written SVG: a cascade tree draws one circle per kept post and collapses the rest under
their nearest drawn ancestor; charts always contain marks."""

from __future__ import annotations

import re
from datetime import date

from pipelines.report import svg


def _node(post_id: str, parent: str | None, depth: int, relation: str | None = "sound_reuse") -> dict:
    return {"post_id": post_id, "parent_post_id": parent, "depth": depth, "relation": relation if parent else None,
            "author": f"u{post_id}", "created_day": date(2024, 3, 1), "plays": 100,
            "confidence": 0.9 if parent else None}


def test_tree_collapses_beyond_max_nodes_under_the_nearest_drawn_ancestor():
    nodes = [_node("r", None, 0), _node("a", "r", 1), _node("b", "r", 1, "duet"),
             _node("a1", "a", 2), _node("a2", "a", 2), _node("a11", "a1", 3)]
    drawn = svg.cascade_tree(nodes, max_nodes=4)
    assert re.findall(r'data-post="(\w+)"', drawn) == ["r", "a", "b", "a1"]
    assert 'data-nodes="4"' in drawn and 'data-hidden="2"' in drawn
    # a2 hangs under a (drawn), a11 under a1 (drawn): two "+1 more" nodes
    assert drawn.count("+1 more") == 2
    full = svg.cascade_tree(nodes, max_nodes=100)
    assert len(re.findall(r'class="mark node"', full)) == 6 and "more" not in full
    assert 'data-relation="duet"' in full and svg.RELATION_COLOURS["duet"] in full


def test_charts_draw_marks_and_escape_titles():
    days = [date(2024, 3, 1), date(2024, 3, 2)]
    rows = [{"day": days[0], "new_creators": 2, "cum_creators": 2, "stage": "moment", "alerts": [], "alert_ids": []},
            {"day": days[1], "new_creators": 9, "cum_creators": 11, "stage": "spark",
             "alerts": ["cum_creators >= 10"], "alert_ids": [7]}]
    chart = svg.adoption_chart("<b>song</b> & co", "curve-x", days, rows)
    assert "&lt;b&gt;song&lt;/b&gt; &amp; co" in chart and "<b>song" not in chart
    assert 'href="#alert-7"' in chart and 'class="mark line"' in chart and chart.count('class="mark bar"') == 2
    assert 'class="mark"' in svg.sparkline([0, 3, 1]) and 'class="mark"' in svg.sparkline([4])
