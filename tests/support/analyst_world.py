"""One real warehouse for the analyst-surface tests: the small sample world (5 days, seed 7, the same world as
tests/sample_world and test_world_e2e, so its renders come from the cache) run through the DAG once per test
session, then published. Tests read it (or its published copy); tests that write take a copy."""

from __future__ import annotations

import os
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path

_LOCK = threading.Lock()
_BUILT: dict[str, AnalystWorld] = {}
ENV_REUSE = "TRENDTRACE_TEST_ANALYST_WORLD"  # folder of a world built by an earlier session (kept in /tmp)


@dataclass(frozen=True)
class AnalystWorld:
    root: Path
    landing: Path
    warehouse: Path
    published: Path


def small_world_warehouse() -> AnalystWorld:
    """Build (once per process) the small world's warehouse through Airflow, with the current code's schema.

    Several test modules use it: a module-level cache instead of a session fixture, so that importing the
    fixture into each module does not build it once per module. Needs Airflow's metadata DB (airflow_db)."""
    with _LOCK:
        if "small" in _BUILT:
            return _BUILT["small"]
        from pipelines.airflow_runner import run_days
        from pipelines.sample_world.world import build_world
        from pipelines.settings import ENV_LANDING, ENV_WAREHOUSE, environ_restored, landing_days
        from pipelines.stages.publish import published_path

        reuse = os.environ.get(ENV_REUSE)
        if reuse:  # a world an earlier session built (the folder is kept): for a quick edit-test loop
            root = Path(reuse)
            world = AnalystWorld(root, root / "world" / "landing", root / "wh" / "trendtrace.duckdb",
                                 published_path(root / "wh" / "trendtrace.duckdb"))
            assert world.published.is_file(), f"{ENV_REUSE}={reuse} holds no published warehouse"
            _BUILT["small"] = world
            return world
        root = Path(tempfile.mkdtemp(prefix="trendtrace-analyst-world-"))
        build_world(root / "world", days=5, seed=7, scale="small", progress=False)
        landing = root / "world" / "landing"
        warehouse = root / "wh" / "trendtrace.duckdb"
        with environ_restored(ENV_LANDING, ENV_WAREHOUSE):
            os.environ[ENV_LANDING] = str(landing)
            os.environ[ENV_WAREHOUSE] = str(warehouse)
            outcomes = run_days(landing_days())
        problems = [o.problem for o in outcomes if o.problem]
        assert not problems, problems
        world = AnalystWorld(root, landing, warehouse, published_path(warehouse))
        _BUILT["small"] = world
        return world
