"""Threshold crossings → new rows in `alerts` (the outbox). The logic is SQL in sql/alerts/cross_*.sql.

Crossings are recomputed from the whole history up to the run's day and inserted with ON CONFLICT DO
NOTHING on (sound_id, rule, level): a rerun, a backfill or a day run twice inserts nothing new, and a
crossing missed by a failed run is picked up by the next one.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import duckdb

from pipelines import warehouse
from pipelines.alerts.rules import Delivery, Rule

EPISODE_KINDS = frozenset({"growth", "robust_z"})


def rule_params(rule: Rule) -> dict[str, Any]:
    """The bind parameters of the rule's crossing statement."""
    params: dict[str, Any] = {
        "rule": rule.name,
        "sound_ids": list(rule.scope.sound_ids) if rule.scope.sound_ids else None,
        "title_pattern": rule.scope.title_matches,
    }
    if rule.kind == "cumulative_creators":
        params["levels"] = list(rule.levels)
    elif rule.kind == "stage_change":
        params["stages"] = list(rule.adoption_stages)
    else:
        params.update(enter=rule.enter, exit=rule.exit, floor=rule.floor)
    return params


def record_crossings(
    con: duckdb.DuckDBPyConnection, rules: tuple[Rule, ...], day: date, run_id: str, now: datetime
) -> list[int]:
    """Insert every crossing up to `day` not recorded yet; return the new alert ids (call inside a transaction)."""
    new_ids: list[int] = []
    for rule in rules:
        params = {"day": day, "now": now, "run_id": run_id, **rule_params(rule)}
        if rule.kind in EPISODE_KINDS:  # one statement for every rate-with-hysteresis kind
            statement = warehouse.sql_text("alerts/cross_episodes")
            params["kind"] = rule.kind
        else:
            statement = warehouse.sql_text(f"alerts/cross_{rule.kind}")
        new_ids.extend(row[0] for row in con.execute(statement, params).fetchall())
    return new_ids


def fill_payloads(con: duckdb.DuckDBPyConnection, delivery: Delivery, default_report: str) -> None:
    """Fix the JSON document of every alert that has none (what the webhook receives)."""
    warehouse.run_sql(
        con,
        "alerts/fill_payload",
        {"top_cascades": delivery.top_cascades, "report": delivery.report or default_report},
    )
