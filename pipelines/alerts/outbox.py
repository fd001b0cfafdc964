"""The outbox: alerts are committed first, then sent, then marked, one alert at a time.

Only `pending` alerts are sent, and per channel only where that channel has not confirmed yet, so a
rerun never re-sends what was delivered. If the process dies between a receiver's 2xx and the mark, the
next run sends it again with the same X-Trendtrace-Delivery id (at-least-once on the wire; receivers
dedupe on that id), which is the closest HTTP allows to exactly once. The id joins this warehouse's id
(warehouse_identity) and the alert's natural key, so it never repeats in another warehouse.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime

import duckdb

from pipelines import warehouse
from pipelines.alerts.channels import Channel, Outcome, Sender
from pipelines.alerts.messages import alert_message
from pipelines.alerts.rules import Delivery

log = logging.getLogger(__name__)
NO_CHANNEL = (
    "no channel configured (docs/alerts.md: TRENDTRACE_WEBHOOK_URL, TRENDTRACE_SMTP_*, TRENDTRACE_SLACK_WEBHOOK_URL, "
    "or Airflow connections)"
)


@dataclass
class DeliveryReport:
    sent: list[int] = field(default_factory=list)
    pending: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    # channel -> error, for channels that stayed unreachable after their retries in this run: the other
    # alerts do not wait through the same timeouts again (they stay pending for the next run)
    down: dict[str, str] = field(default_factory=dict)

    def summary(self) -> str:
        text = f"{len(self.sent)} sent, {len(self.pending)} pending, {len(self.failed)} failed"
        return f"{text} ({self.errors[0]})" if self.errors else text


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def warehouse_id(con: duckdb.DuckDBPyConnection) -> str:
    """This warehouse's id (table warehouse_identity), drawn once on first use and never changed."""
    rows = con.execute(warehouse.sql_text("alerts/warehouse_identity")).fetchall()
    if not rows:
        with warehouse.transaction(con):
            warehouse.run_sql(con, "alerts/warehouse_identity_create",
                              {"warehouse_id": uuid.uuid4().hex, "now": _now()})
        rows = con.execute(warehouse.sql_text("alerts/warehouse_identity")).fetchall()
    return rows[0][0]


def deliver_pending(
    con: duckdb.DuckDBPyConnection, channels: list[Channel], delivery: Delivery, sender: Sender | None = None
) -> DeliveryReport:
    """Send every pending alert (oldest first) through every configured channel that has not confirmed it."""
    rows = con.execute(warehouse.sql_text("alerts/pending")).fetchall()
    report = DeliveryReport()
    sender = sender or Sender(delivery)
    for alert_id, *_rest, attempts, payload in rows:
        status = deliver_one(con, alert_id, attempts, payload, channels, delivery, sender, force=False, report=report)
        getattr(report, status).append(alert_id)
    return report


def resend(
    con: duckdb.DuckDBPyConnection, alert_id: int, channels: list[Channel], delivery: Delivery,
    sender: Sender | None = None,
) -> tuple[str, DeliveryReport]:
    """An operator's explicit resend: every configured channel again, whatever the alert's status."""
    rows = con.execute(warehouse.sql_text("alerts/get"), {"alert_id": alert_id}).fetchall()
    if not rows:
        raise KeyError(f"no alert with id {alert_id}")
    row = rows[0]
    report = DeliveryReport()
    status = deliver_one(con, alert_id, row[-2], row[-1], channels, delivery, sender or Sender(delivery),
                         force=True, report=report)
    getattr(report, status).append(alert_id)
    return status, report


def deliver_one(
    con: duckdb.DuckDBPyConnection,
    alert_id: int,
    attempts_before: int,
    payload: str | None,
    channels: list[Channel],
    delivery: Delivery,
    sender: Sender,
    *,
    force: bool,
    report: DeliveryReport,
) -> str:
    """Deliver one alert and mark it; returns its new status (sent, pending or failed)."""
    if not channels:
        _mark(con, alert_id, "pending", 0, NO_CHANNEL)
        report.errors.append(NO_CHANNEL)
        return "pending"
    if payload is None:
        raise RuntimeError(f"alert {alert_id} has no payload (fill_payloads runs before delivery)")
    message = alert_message(alert_id, payload, warehouse_id(con))
    confirmed = set() if force else {
        r[0] for r in con.execute(warehouse.sql_text("alerts/sent_channels"), {"alert_id": alert_id}).fetchall()
    }
    outcomes: list[Outcome] = []
    for channel in channels:
        if channel.name in confirmed:
            continue
        if channel.name in report.down:
            outcomes.append(Outcome(ok=False, attempts=0, error=f"{channel.name}: not tried, down earlier in this "
                                    f"run ({report.down[channel.name]})"))
            continue
        outcome = sender.send(channel, message)
        outcomes.append(outcome)
        if not outcome.ok and not outcome.permanent:
            report.down[channel.name] = (outcome.error or "").removeprefix(f"{channel.name}: ")
        with warehouse.transaction(con):
            warehouse.run_sql(con, "alerts/record_delivery", {
                "alert_id": alert_id,
                "channel": channel.name,
                "status": "sent" if outcome.ok else ("failed" if outcome.permanent else "pending"),
                "attempts": outcome.attempts,
                "delivered_at": _now() if outcome.ok else None,
                "last_error": outcome.error,
            })
    attempts = sum(o.attempts for o in outcomes)
    errors = [o.error for o in outcomes if not o.ok and o.error]
    if not errors:
        status, error = "sent", None
    elif any(o.permanent for o in outcomes):
        status, error = "failed", "; ".join(errors)
    elif attempts_before + attempts >= delivery.max_attempts:
        status, error = "failed", f"gave up after {attempts_before + attempts} attempts: " + "; ".join(errors)
    else:
        status, error = "pending", "; ".join(errors)
    _mark(con, alert_id, status, attempts, error)
    report.errors.extend(errors)
    return status


def _mark(con: duckdb.DuckDBPyConnection, alert_id: int, status: str, attempts: int, error: str | None) -> None:
    with warehouse.transaction(con):
        warehouse.run_sql(con, "alerts/mark", {
            "alert_id": alert_id, "status": status, "attempts": attempts, "last_error": error, "now": _now(),
        })
