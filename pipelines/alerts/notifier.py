"""A failed Airflow task is an alert too: sent through the same channels (webhook, e-mail) as sound alerts.

Use `FailureNotifier()` (an Airflow notifier) or the plain function `on_failure` as a task's
`on_failure_callback`; Airflow calls it once the task has failed for good (after its retries). It does not
touch the warehouse (the failing task may be the one holding it) and never raises: a notification problem
must not hide the task's own error, so it is logged (secrets redacted) instead.
"""

from __future__ import annotations

import logging
from typing import Any

from airflow.sdk.bases.notifier import BaseNotifier

from pipelines.alerts import channels as alert_channels
from pipelines.alerts import rules
from pipelines.alerts.channels import Message, Outcome, Sender
from pipelines.alerts.messages import degraded_message, failure_message

log = logging.getLogger(__name__)


def send_failure_alert(context: dict[str, Any], sender: Sender | None = None) -> list[Outcome]:
    """Send the failure of the task in `context` through every configured channel; one Outcome per channel."""
    return _send(failure_message(context), "task failure", sender)


def send_degraded_notice(day: str, run_id: str, ingest_message: str, sender: Sender | None = None) -> list[Outcome]:
    """Say through the same channels that a day succeeded degraded; nothing when its ingest message is not
    degraded. Never raises (a notification problem must not fail the day it reports on)."""
    from pipelines.runlog import DEGRADED_PREFIX  # here: runlog imports DuckDB, the DAG file imports this module

    if not ingest_message.startswith(DEGRADED_PREFIX):
        return []
    try:
        return _send(degraded_message(day, run_id, ingest_message), "degraded day", sender)
    except Exception:
        log.exception("could not send the degraded-day notice")
        return []


def _send(message: Message, what: str, sender: Sender | None) -> list[Outcome]:
    try:
        delivery = rules.load().delivery
    except rules.AlertConfigError as exc:  # a broken alerts config must not silence failure alerts
        log.warning("alerts config unusable (%s); failure alert uses default delivery settings", exc)
        delivery = rules.Delivery()
    channels = alert_channels.configured_channels(skip_broken=True)  # a broken webhook must not stop the e-mail
    if not channels:
        log.warning("%s not delivered: no alert channel configured (%s)", what, message.subject)
        return []
    sender = sender or Sender(delivery)
    outcomes = [sender.send(channel, message) for channel in channels]
    for channel, outcome in zip(channels, outcomes, strict=False):
        if not outcome.ok:
            log.error("%s alert not delivered via %s: %s", what, channel.name, outcome.error)
    return outcomes


def on_failure(context: dict[str, Any]) -> None:
    """`on_failure_callback` for tasks (e.g. in the DAG's default_args)."""
    try:
        send_failure_alert(context)
    except Exception:  # never let the callback mask the task's failure
        log.exception("could not send the task failure alert")


class FailureNotifier(BaseNotifier):
    """Airflow notifier form of `on_failure`: `on_failure_callback=FailureNotifier()`."""

    def notify(self, context: Any) -> None:
        on_failure(dict(context))
