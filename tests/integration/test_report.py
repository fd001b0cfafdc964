"""The daily report of the small sample world, opened in real headless Chromium: no console error, nothing
fetched from outside the file, every chart has drawn marks (in the DOM and in pixels), and each cascade tree
has as many post nodes as the cascade had posts by that day."""

from __future__ import annotations

import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pipelines.cli import app
from tests.support.analyst_world import AnalystWorld, small_world_warehouse
from tests.support.db import query

# one worker runs both analyst-world modules, so the world is built once per test run
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("analyst_world")]
runner = CliRunner()
CONSOLE = re.compile(r":CONSOLE[:(]")


@pytest.fixture(scope="module")
def world(airflow_db) -> AnalystWorld:
    return small_world_warehouse()


def _chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        pytest.skip("chromium is not installed (apt-get install -y chromium)")
    return found


def _browser(page: Path, *args: str) -> subprocess.CompletedProcess:
    """Chromium headless on the page with its console logged to stderr (INFO:CONSOLE lines)."""
    return subprocess.run(
        [_chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--enable-logging=stderr",
         "--v=0", f"--user-data-dir={page.parent / 'chromium-profile'}", *args, page.as_uri()],
        check=False, capture_output=True, text=True, timeout=300)


class _Svgs(HTMLParser):
    """Each <svg class="chart ..."> of the DOM with the classes of the elements inside it."""

    def __init__(self) -> None:
        super().__init__()
        self.charts: list[dict] = []
        self._open: dict | None = None
        self._depth = 0
        self.external: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        for key in ("src", "href"):
            if a.get(key) and re.match(r"(https?:)?//", a[key] or ""):
                self.external.append(a[key] or "")
        if tag == "svg" and "chart" in (a.get("class") or "").split():
            self._open = {"class": a.get("class"), "attrs": a, "marks": [], "nodes": []}
            self._depth = 0
            self.charts.append(self._open)
        elif self._open is not None:
            if tag == "svg":
                self._depth += 1
            classes = (a.get("class") or "").split()
            if "mark" in classes:
                self._open["marks"].append(tag)
            if "node" in classes:
                self._open["nodes"].append(a.get("data-post"))

    def handle_endtag(self, tag: str) -> None:
        if tag == "svg" and self._open is not None:
            if self._depth == 0:
                self._open = None
            else:
                self._depth -= 1


def _busiest_day(world: AnalystWorld) -> str:
    """The day with the most sounds changing stage (so the report has origin stories and trees)."""
    (day,), = query(world.published, """SELECT day FROM sound_stage_changes
        WHERE from_stage IS NOT NULL OR to_stage <> 'moment' GROUP BY day ORDER BY count(*) DESC, day LIMIT 1""")
    return day.isoformat()


def test_report_opens_in_chromium_with_drawn_charts_and_full_trees(world, tmp_path):
    day = _busiest_day(world)
    page = tmp_path / "report.html"
    result = runner.invoke(app, ["report", "--day", day, "--out", str(page), "--db", str(world.published),
                                 "--max-nodes", "12"])
    assert result.exit_code == 0, result.output
    html = page.read_text(encoding="utf-8")
    assert "<script" not in html and f"daily report — {day}" in html

    dom_run = _browser(page, "--dump-dom")
    assert dom_run.returncode == 0, dom_run.stderr[-2000:]
    assert [line for line in dom_run.stderr.splitlines() if CONSOLE.search(line)] == []
    parsed = _Svgs()
    parsed.feed(dom_run.stdout)
    assert parsed.external == []  # self-contained: nothing to fetch
    kinds = {c["class"].split()[1] for c in parsed.charts}
    assert {"spark", "adoption", "tree", "scatter"} <= kinds
    assert [c["class"] for c in parsed.charts if not c["marks"]] == []  # every chart drew something

    # each tree: the cascade's posts up to that day, the first 12 drawn and the rest counted in "+k more"
    trees = [c for c in parsed.charts if "tree" in c["class"]]
    wraps = re.findall(r'data-root="(\d+)" data-size="(\d+)"', dom_run.stdout)
    assert len(trees) == len(wraps) >= 1
    for tree, (root, size) in zip(trees, wraps, strict=False):
        (posts,), = query(world.published, "SELECT count(*) FROM lineage_paths WHERE root_post_id = ? "
                                           "AND CAST(created_at AS DATE) <= ?", [root, day])
        assert int(size) == posts
        assert len(tree["nodes"]) == min(posts, 12) == int(tree["attrs"]["data-nodes"])
        assert int(tree["attrs"]["data-hidden"]) == posts - len(tree["nodes"])
        assert root in tree["nodes"]

    # each origin story counts what existed by that day, not what the latest run knows
    stories = re.findall(r'id="story-([^"]+)".*?<p>(\d+) posts by (\d+) creators by ', html, flags=re.S)
    assert stories
    for sound_id, n_posts, n_creators in stories:
        assert query(world.published, "SELECT cum_posts, cum_creators FROM sound_daily WHERE sound_id = ? AND day = ?",
                     [sound_id, day]) == [(int(n_posts), int(n_creators))]

    # alerts of the day have anchors, and the markers on the curves link to them
    for (alert_id,) in query(world.published, "SELECT alert_id FROM alerts WHERE day = ?", [day]):
        assert f'id="alert-{alert_id}"' in html and f'href="#alert-{alert_id}"' in html


def test_report_screenshot_shows_the_charts(world, tmp_path):
    from PIL import Image

    page = tmp_path / "report.html"
    assert runner.invoke(app, ["report", "--day", _busiest_day(world), "--out", str(page),
                               "--db", str(world.published)]).exit_code == 0
    shot = tmp_path / "report.png"
    run = _browser(page, f"--screenshot={shot}", "--window-size=1200,2400")
    assert run.returncode == 0 and shot.is_file(), run.stderr[-2000:]
    colours = {c for _, c in Image.open(shot).convert("RGB").getcolors(maxcolors=1 << 24)}
    def near(rgb):
        return any(sum(abs(a - b) for a, b in zip(rgb, c, strict=False)) < 30 for c in colours)
    assert near((0x24, 0x57, 0xB8))  # the adoption lines
    assert near((0x2B, 0x8A, 0x8A)) or near((0x8A, 0x4F, 0xD1))  # tree nodes (reuse / duet)


def test_report_for_a_day_without_data_is_refused(world, tmp_path):
    result = runner.invoke(app, ["report", "--day", "2019-01-01", "--out", str(tmp_path / "r.html"),
                                 "--db", str(world.published)])
    assert result.exit_code == 2 and "no data for 2019-01-01" in result.output
    assert not (tmp_path / "r.html").exists()
