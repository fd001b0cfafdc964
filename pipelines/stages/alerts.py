"""alerts: record the day's threshold crossings in the `alerts` outbox, then deliver what is pending.

Recording is one transaction (crossings + their payloads); delivery happens after the commit, so an alert
exists before anyone is told about it. A receiver that is down does not fail the stage (the alert stays
pending and the next run retries it); a broken config does. docs/alerts.md explains rules and delivery.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from pipelines import warehouse
from pipelines.alerts import channels as alert_channels
from pipelines.alerts import crossings, outbox, rules
from pipelines.runlog import StageResult, stage_run
from pipelines.stages.publish import report_path


def default_report_link() -> str:
    """Where an alert points when `delivery.report` is not set: its row in the daily report of the day it crossed,
    which publish writes (a template: {day} and {alert_id} are filled per alert)."""
    return f"{report_path('{day}')}#alert-{{alert_id}}"


def run(day: date, run_id: str = "cli") -> StageResult:
    with stage_run("alerts", day, run_id) as (con, result):
        config = rules.load()
        now = datetime.now(UTC).replace(tzinfo=None)
        with warehouse.transaction(con):
            new_ids = crossings.record_crossings(con, config.rules, day, run_id, now)
            crossings.fill_payloads(con, config.delivery, default_report_link())
        delivered = outbox.deliver_pending(con, alert_channels.configured_channels(), config.delivery)
        rows_in, _pending = con.execute(warehouse.sql_text("alerts/day_summary"), {"day": day}).fetchall()[0]
        result.rows_in = rows_in
        result.rows_out = len(new_ids)
        result.message = f"{len(new_ids)} new alerts; delivery: {delivered.summary()}"
        return result
