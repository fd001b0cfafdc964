"""Test-wide set-up: Airflow points at a throw-away home (SQLite) so tests never touch a developer's
metadata, and pipelines settings point at per-test folders.

Safe under pytest-xdist: this module runs once in every worker process, so each worker migrates its own
Airflow metadata DB in its own temporary home, and the small sample world is built once per test run (by
whichever worker asks first, under a file lock) and read by all of them.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from pipelines.settings import airflow_sqlite_url

_AIRFLOW_HOME = Path(tempfile.mkdtemp(prefix="trendtrace-airflow-"))
ROOT = Path(__file__).resolve().parent.parent
# Must be set before anything imports airflow.
os.environ["AIRFLOW_HOME"] = str(_AIRFLOW_HOME)
os.environ["AIRFLOW_CONFIG"] = str(ROOT / "airflow.cfg")
os.environ["AIRFLOW__CORE__DAGS_FOLDER"] = str(ROOT / "dags")
os.environ["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"] = airflow_sqlite_url(_AIRFLOW_HOME)
os.environ["AIRFLOW__LOGGING__BASE_LOG_FOLDER"] = str(_AIRFLOW_HOME / "logs")
os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
os.environ["AIRFLOW__CORE__UNIT_TEST_MODE"] = "False"
os.environ.setdefault("TRENDTRACE_PROGRESS", "0")
os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")


def _shares_a_module_fixture(item: pytest.Item) -> bool:
    info = getattr(item, "_fixtureinfo", None)
    return info is not None and any(
        fd.scope == "module" for defs in info.name2fixturedefs.values() for fd in defs
    )


@pytest.hookimpl(wrapper=True)
def pytest_collection_modifyitems(config, items):
    """How `make test` (`--dist loadgroup --no-loadscope-reorder`) spreads the suite over xdist workers.

    - The tests of a module with a module-scoped fixture (an index built from rendered media, say) are marked as
      one xdist group, to be run by one worker so the fixture is built once; unless the module names its own
      group (the analyst-world modules share one, so that world is built once per run).
    - Every other test is scheduled on its own, and slow tests go first (otherwise collection order): the few
      multi-minute tests start at once on different workers instead of one of them starting last and running
      alone at the end.

    A wrapper, because xdist's own hook (run inside it) turns the marks into groups by appending `@group` to
    `item._nodeid`, which pytest >= 9.2 no longer reads (a node's id is `Node._id`): after it, the suffixed id
    is copied to where pytest reads it, or every group would be inert.
    """
    for item in items:
        if _shares_a_module_fixture(item) and item.get_closest_marker("xdist_group") is None:
            item.add_marker(pytest.mark.xdist_group(item.nodeid.split("::", 1)[0]))
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)
    result = yield
    for item in items:
        grouped = item.__dict__.get("_nodeid")
        if isinstance(grouped, str) and grouped != item.nodeid and hasattr(item, "_id"):
            from _pytest.nodeid import NodeId

            item._id = NodeId.parse(grouped)
    return result


@pytest.fixture
def pipeline_env(tmp_path, monkeypatch):
    """A fresh landing folder and warehouse file for one test, through the same env vars users set."""
    landing = tmp_path / "landing"
    landing.mkdir()
    warehouse = tmp_path / "warehouse" / "trendtrace.duckdb"
    monkeypatch.setenv("TRENDTRACE_LANDING", str(landing))
    monkeypatch.setenv("TRENDTRACE_WAREHOUSE", str(warehouse))
    return landing, warehouse


@pytest.fixture(scope="session")
def airflow_db():
    """Airflow's metadata DB, migrated once per test session (about 5 s)."""
    from pipelines.airflow_runner import ensure_metadata_db

    ensure_metadata_db()
    return _AIRFLOW_HOME


# The small sample world: real audio, 5 days, seed 7 (tests/sample_world and the end-to-end test share it).
SMALL_WORLD = {"days": 5, "seed": 7, "scale": "small"}


@contextmanager
def exclusive(lock_path: Path) -> Iterator[None]:
    """Hold an exclusive advisory lock on `lock_path` (created if missing) across processes."""
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with lock_path.open("w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def render_cache_lock() -> Path:
    """One lock per render cache: builds that render media into it take turns.

    pipelines.sample_world writes some cache entries through fixed temporary names (music21 renders:
    `<hash>.part.ogg`, `<hash>.tmp`), so two processes rendering the same cold cache can trip over each other.
    The lock lives in the cache folder, so it also serialises against other pytest runs of this checkout.
    """
    from pipelines.sample_world.config import default_cache_dir

    return default_cache_dir() / ".tests-build.lock"


def build_media_world(out: Path, **kwargs) -> dict:
    """`build_world` with media, under the render-cache lock (see `render_cache_lock`)."""
    from pipelines.sample_world import build_world

    with exclusive(render_cache_lock()):
        return build_world(out, progress=False, **kwargs)


def run_shared_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder shared by every xdist worker of this test run (the parent of the workers' base temps);
    the session's base temp when running serially."""
    base = tmp_path_factory.getbasetemp()
    return base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base


@pytest.fixture(scope="session")
def small_world(tmp_path_factory) -> tuple[Path, dict]:
    """(folder, build summary) of the small sample world, built once per test run. Read it, never write into it:
    other workers read the same folder concurrently."""
    shared = run_shared_dir(tmp_path_factory)
    out, done = shared / "small_world", shared / "small_world.summary.json"
    with exclusive(shared / "small_world.lock"):
        if not done.exists():
            if out.exists():  # a worker died half-way through building it
                shutil.rmtree(out)
            summary = build_media_world(out, **SMALL_WORLD)
            tmp = done.with_suffix(".tmp")
            tmp.write_text(json.dumps(summary))
            tmp.replace(done)
    return out, json.loads(done.read_text())
