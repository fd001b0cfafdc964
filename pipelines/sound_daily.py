"""sound_daily (one row per sound and day: adoption counters and the sound's adoption stage) and
sound_stage_changes, with the thresholds of config/adoption.yaml (pipelines.settings.adoption_thresholds).

The adoption stage of a day is a pure function of that sound's counters up to the day (SQL in
sql/adoption/sound_daily.sql): movement > trend > spark > moment, strongest first, so a fading sound
falls back and the fall is recorded in sound_stage_changes. The DAG task that runs this is
pipelines/stages/adoption.py.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import date

import duckdb

from pipelines import warehouse
from pipelines.settings import AdoptionThresholds, adoption_thresholds


def sql_params(th: AdoptionThresholds, first_day: date, day: date) -> dict:
    """Parameters of sql/adoption/sound_daily.sql."""
    params = {k: v for k, v in asdict(th).items() if not k.startswith("robust_z")}
    params.update(first_day=first_day, day=day, z_window=th.robust_z_window_days, z_min_days=th.robust_z_min_days)
    return params


def refresh_sound_daily(con: duckdb.DuckDBPyConnection, first_day: date, day: date,
                        thresholds: AdoptionThresholds | None = None) -> int:
    """Recompute days first_day … day of every sound (a sound new to the window from its first day), continuing
    from the rows already written before the window; rederive their stage changes. Returns the window's rows."""
    th = thresholds or adoption_thresholds()
    warehouse.run_sql(con, "adoption/sound_daily", sql_params(th, first_day, day))
    warehouse.run_sql(con, "adoption/replace", {"first_day": first_day, "day": day})
    return con.execute(
        "SELECT count(*) FROM sound_daily WHERE day BETWEEN $a AND $b", {"a": first_day, "b": day}
    ).fetchall()[0][0]
