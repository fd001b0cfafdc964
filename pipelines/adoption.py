"""Adoption: sound_daily (one row per sound and day) and its stage changes, thresholds from config/stages.yaml.

The stage of a day is a pure function of that sound's counters up to the day (SQL in
sql/adoption/sound_daily.sql): movement > trend > spark > moment, strongest first, so a fading sound
falls back and the fall is recorded in sound_stage_changes.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from datetime import date
from pathlib import Path

import duckdb
import yaml

from pipelines import warehouse
from pipelines.settings import PROJECT_ROOT

STAGES_FILE = PROJECT_ROOT / "config" / "stages.yaml"
STAGE_ORDER = ("moment", "spark", "trend", "movement")


@dataclass(frozen=True)
class StageThresholds:
    """Defaults mirror config/stages.yaml (and the sample world's truth); docs/lineage.md says why."""

    spark_min_creators: int = 2
    trend_min_new_creators_day: int = 20
    trend_growth_ratio: float = 3.0
    movement_min_creators: int = 100
    movement_min_depth: int = 3
    movement_min_branches: int = 10
    movement_min_new_creators_7d: int = 20
    robust_z_window_days: int = 28
    robust_z_min_days: int = 7


def stage_thresholds(path: Path | None = None) -> StageThresholds:
    """Thresholds from config/stages.yaml; unknown keys are an error (a typo must not silently use a default)."""
    file = path or STAGES_FILE
    loaded = yaml.safe_load(file.read_text(encoding="utf-8")) if file.exists() else {}
    loaded = loaded or {}
    known = {f.name: f.type for f in fields(StageThresholds)}
    unknown = sorted(set(loaded) - set(known))
    if unknown:
        raise ValueError(f"{file}: unknown stage thresholds {', '.join(unknown)}; known: {', '.join(known)}")
    defaults = StageThresholds()
    values = {k: type(getattr(defaults, k))(v) for k, v in loaded.items()}
    return StageThresholds(**values)


def sql_params(th: StageThresholds, first_day: date, day: date) -> dict:
    """Parameters of sql/adoption/sound_daily.sql."""
    params = {k: v for k, v in asdict(th).items() if not k.startswith("robust_z")}
    params.update(first_day=first_day, day=day, z_window=th.robust_z_window_days, z_min_days=th.robust_z_min_days)
    return params


def refresh_sound_daily(con: duckdb.DuckDBPyConnection, first_day: date, day: date,
                        thresholds: StageThresholds | None = None) -> int:
    """Recompute days first_day … day of every sound (a sound new to the window from its first day), continuing
    from the rows already written before the window; rederive their stage changes. Returns the window's rows."""
    th = thresholds or stage_thresholds()
    warehouse.run_sql(con, "adoption/sound_daily", sql_params(th, first_day, day))
    warehouse.run_sql(con, "adoption/replace", {"first_day": first_day, "day": day})
    return con.execute(
        "SELECT count(*) FROM sound_daily WHERE day BETWEEN $a AND $b", {"a": first_day, "b": day}
    ).fetchall()[0][0]
