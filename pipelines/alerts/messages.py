"""What a notification says: the alert's stored JSON payload rendered as a message, and a task failure.

The webhook gets the payload as is (documented in docs/alerts.md); e-mail gets a subject and plain text
made from the same document, so both channels always say the same thing.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Any

from pipelines.alerts.channels import Message
from pipelines.redact import scrub_exception


def alert_delivery_id(warehouse_id: str, sound_id: str, rule: str, level: int) -> str:
    """X-Trendtrace-Delivery of an alert: `alert-<warehouse id>-<32 hex of its natural key>`.

    Stable for the alert (the same on a retry, a rerun and a resend) and unique across warehouses: alert ids
    restart at 1 in every warehouse, so `alert-<alert_id>` repeated after a rebuild and a receiver that
    dedupes on the header dropped a new alert. Hex only, so it is always a safe header value.
    """
    key = json.dumps([sound_id, rule, int(level)], ensure_ascii=False, separators=(",", ":"))
    return f"alert-{warehouse_id}-{hashlib.sha256(key.encode()).hexdigest()[:32]}"


def alert_message(alert_id: int, payload: dict[str, Any] | str, warehouse_id: str) -> Message:
    doc = json.loads(payload) if isinstance(payload, str) else dict(payload)
    who = (doc.get("title") or doc["sound_id"])[:120]
    subject = f"[trendtrace] {who}: {doc['label']} on {doc['day']}"
    lines = [
        f"Sound {doc['sound_id']} ({doc.get('title') or 'untitled'}) crossed a line on {doc['day']}.",
        "",
        f"rule:      {doc['rule']} ({doc['kind']})",
        f"crossing:  {doc['label']}",
        f"value:     {_number(doc.get('value'))}",
        f"threshold: {_number(doc.get('threshold'))}",
        f"report:    {doc.get('report') or '-'}",
        "",
        "Top cascades:" if doc.get("top_cascades") else "No cascades recorded yet.",
    ]
    lines.extend(
        f"  {c['root_post_id']}: {c['size']} posts, {c['creators']} creators, depth {c['depth']}, "
        f"structural virality {_number(c.get('structural_virality'))}"
        for c in doc.get("top_cascades") or []
    )
    lines += ["", f"alert id {alert_id}; details: trendtrace alerts list --day {doc['day']}"]
    delivery_id = alert_delivery_id(warehouse_id, doc["sound_id"], doc["rule"], doc["level"])
    return Message(delivery_id=delivery_id, event="alert", subject=subject, text="\n".join(lines) + "\n",
                   payload=doc)


def failure_message(context: dict[str, Any]) -> Message:
    """A failed Airflow task: what failed, for which day, and the error's first line (no traceback)."""
    ti = context.get("task_instance") or context.get("ti")
    dag_id = getattr(ti, "dag_id", None) or getattr(context.get("dag"), "dag_id", None) or "?"
    task_id = getattr(ti, "task_id", None) or "?"
    run_id = context.get("run_id") or getattr(ti, "run_id", None) or "?"
    try_number = getattr(ti, "try_number", None)
    logical = context.get("logical_date")
    day_param = (context.get("params") or {}).get("day")  # fresh runs name their day and have no logical date
    if day_param:
        day = str(day_param)
    else:
        day = logical.date().isoformat() if isinstance(logical, datetime) else str(context.get("ds") or "?")
    exc = context.get("exception")
    error = scrub_exception(exc).splitlines()[0][:500] if exc else "unknown error"  # no secret in a notification
    log_url = getattr(ti, "log_url", None)
    payload = {
        "event": "task_failed",
        "dag_id": dag_id,
        "task_id": task_id,
        "run_id": run_id,
        "day": day,
        "try_number": try_number,
        "error": error,
        "log_url": log_url,
    }
    subject = f"[trendtrace] {dag_id}.{task_id} failed for {day}"
    text = (
        f"Task {task_id} of {dag_id} failed for {day} (run {run_id}, try {try_number}).\n\n"
        f"error: {error}\n"
        f"log:   {log_url or '-'}\n\n"
        f"Rerun the day once fixed: trendtrace run --date {day}\n"
    )
    return Message(delivery_id=f"task_failed-{run_id}-{task_id}-{try_number}", event="task_failed",
                   subject=subject, text=text, payload=payload)


def _number(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.3g}" if abs(value) < 1000 else f"{value:,.0f}"
    return str(value)



def degraded_message(day: str, run_id: str, detail: str) -> Message:
    """A day that ran but loaded degraded (a file's records quarantined for schema drift): said through the
    failure channels, since no task failed and the day would otherwise look green."""
    detail = detail[:1000]
    payload = {"event": "day_degraded", "dag_id": "moment_to_movement", "task_id": "ingest", "run_id": run_id,
               "day": day, "detail": detail}
    subject = f"[trendtrace] {day} loaded degraded (schema drift)"
    text = (
        f"The run {run_id} for {day} succeeded, but part of its input was quarantined as schema drift:\n\n"
        f"{detail}\n\n"
        f"Fix the export or its adapter, then rerun the day: trendtrace run --date {day}\n"
    )
    return Message(delivery_id=f"day_degraded-{run_id}-{day}", event="day_degraded", subject=subject, text=text,
                   payload=payload)
