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


def sql_params(th: AdoptionThresholds, day: date) -> dict:
    """Parameters of sql/adoption/sound_daily.sql (`day`: the last day to write)."""
    params = {k: v for k, v in asdict(th).items() if not k.startswith("robust_z")}
    params.update(day=day, z_window=th.robust_z_window_days, z_min_days=th.robust_z_min_days)
    return params


def refresh_sound_daily(con: duckdb.DuckDBPyConnection, day: date,
                        thresholds: AdoptionThresholds | None = None) -> tuple[int, int, date]:
    """Bring sound_daily and sound_stage_changes up to `day` (or up to the last day already written, if later)
    for what changed: the sounds of lineage_scope's posts (pipelines.lineage.build_scope, already built) from
    their earliest created_day, sounds whose rows disagree with lineage_paths from their first day, every other
    sound from the day after its last row. Returns (rows written, sounds recomputed before their last row,
    the last day written)."""
    th = thresholds or adoption_thresholds()
    last_written = con.execute("SELECT max(day) FROM sound_daily").fetchall()[0][0]
    end = max(day, last_written) if last_written else day
    warehouse.run_sql(con, "adoption/sound_daily", sql_params(th, end))
    rows, back = con.execute(
        "SELECT count(*), count(DISTINCT sound_id) FILTER (WHERE day < $day) FROM adoption_rows", {"day": day}
    ).fetchall()[0]
    warehouse.run_sql(con, "adoption/replace", {"day": end})
    return rows, back, end
