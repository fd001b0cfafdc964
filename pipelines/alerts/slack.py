"""Slack: alerts and task failures posted to a Slack incoming webhook in Slack's Block Kit format.

A channel beside the webhook and e-mail ones (same `Channel` protocol, same retries through `Sender`, same
per-channel confirmation in `alert_deliveries` under the name "slack"). The webhook URL is the secret (its
path is the token): it comes from TRENDTRACE_SLACK_WEBHOOK_URL or the Airflow connection `trendtrace_slack`,
is never logged, and is redacted from every stored error.
"""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any

from pipelines.alerts.channels import Message, PermanentError, TransientError, _airflow_connection, _safe_target

ENV_SLACK_WEBHOOK_URL = "TRENDTRACE_SLACK_WEBHOOK_URL"
SLACK_CONN_ID = "trendtrace_slack"
SLACK_HOOKS = "https://hooks.slack.com/services/"
# Block Kit limits: header text 150 characters, section text 3000, section fields 10 of 2000 each.
HEADER_MAX, SECTION_MAX = 150, 3000


def _mrkdwn(text: Any) -> str:
    """Slack's mrkdwn needs only &, < and > escaped (they delimit links and mentions)."""
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _number(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:,.0f}" if value.is_integer() else f"{value:,.2f}"
    return str(value)


def blocks(message: Message) -> dict[str, Any]:
    """The Slack payload: `text` (the notification fallback) and `blocks` (header, facts, cascades, context)."""
    doc = message.payload
    if message.event == "alert":
        title = doc.get("title") or doc["sound_id"]
        body: list[dict[str, Any]] = [
            {"type": "header", "text": {"type": "plain_text", "text": _cut(f"{title}: {doc['label']}", HEADER_MAX),
                                        "emoji": False}},
            {"type": "section", "text": {"type": "mrkdwn", "text": _cut(
                f"Sound `{_mrkdwn(doc['sound_id'])}` (*{_mrkdwn(title)}*) crossed a line on *{doc['day']}*.",
                SECTION_MAX)}},
            {"type": "section", "fields": [
                {"type": "mrkdwn", "text": f"*Rule*\n{_mrkdwn(doc['rule'])} ({_mrkdwn(doc['kind'])})"},
                {"type": "mrkdwn", "text": f"*Crossing*\n{_mrkdwn(doc['label'])}"},
                {"type": "mrkdwn", "text": f"*Value*\n{_number(doc.get('value'))}"},
                {"type": "mrkdwn", "text": f"*Threshold*\n{_number(doc.get('threshold'))}"},
            ]},
        ]
        cascades = doc.get("top_cascades") or []
        if cascades:
            lines = [f"• `{_mrkdwn(c['root_post_id'])}`: {c['size']} posts, {c['creators']} creators, depth "
                     f"{c['depth']}, structural virality {_number(c.get('structural_virality'))}" for c in cascades]
            body.append({"type": "section", "text": {"type": "mrkdwn",
                                                     "text": _cut("*Top cascades*\n" + "\n".join(lines), SECTION_MAX)}})
        body.append({"type": "context", "elements": [{"type": "mrkdwn", "text": _cut(
            f"alert {doc.get('alert_id', '')} · `trendtrace sound {_mrkdwn(doc['sound_id'])}` · "
            f"`trendtrace report --day {doc['day']}`", SECTION_MAX)}]})
    else:
        body = [
            {
                "type": "header",
                "text": {"type": "plain_text", "text": _cut(message.subject, HEADER_MAX), "emoji": False},
            },
            {
                "type": "section",
                "text": {"type": "mrkdwn", "text": _cut(f"```{_mrkdwn(message.text)}```", SECTION_MAX)},
            },
        ]
    body.append({"type": "context", "elements": [{"type": "plain_text", "text": f"delivery {message.delivery_id}"}]})
    return {"text": _cut(message.subject, SECTION_MAX), "blocks": body}


@dataclass
class SlackChannel:
    url: str
    name: str = "slack"

    @property
    def target(self) -> str:
        return _safe_target(self.url)

    def secrets(self) -> list[str]:
        token = self.url.removeprefix(SLACK_HOOKS) if self.url.startswith(SLACK_HOOKS) else None
        return [s for s in (self.url, token) if s]

    def attempt(self, message: Message, timeout_s: float) -> None:
        """POST the blocks; Slack answers 200 "ok", 4xx with a reason (invalid_payload, no_service, …: not worth
        retrying) or 429/5xx (retried with backoff)."""
        body = json.dumps(blocks(message), ensure_ascii=False).encode()
        request = urllib.request.Request(self.url, data=body, method="POST", headers={
            "Content-Type": "application/json; charset=utf-8", "User-Agent": "trendtrace-alerts"})
        try:
            with urllib.request.urlopen(request, timeout=timeout_s) as response:
                response.read()
        except urllib.error.HTTPError as exc:
            reason = exc.read()[:200].decode(errors="replace")
            if exc.code in (408, 425, 429) or exc.code >= 500:
                raise TransientError(f"HTTP {exc.code} from {self.target}: {reason}") from None
            raise PermanentError(f"HTTP {exc.code} from {self.target}: {reason} (rejected, not retried)") from None
        except TimeoutError:
            raise TransientError(f"no answer from {self.target} within {timeout_s:g} s") from None
        except (urllib.error.URLError, OSError) as exc:
            raise TransientError(f"{self.target} unreachable: {getattr(exc, 'reason', exc)}") from None


def _slack_from_connection(conn: Any) -> SlackChannel | None:
    """An Airflow connection: extra.url / extra.webhook_url, a host that is the URL, or the Slack provider's
    shape (host https://hooks.slack.com/services, password = the T…/B…/… token)."""
    extra = conn.extra_dejson or {}
    url = extra.get("url") or extra.get("webhook_url")
    if url:
        return SlackChannel(url=url)
    host = conn.host or ""
    token = (conn.password or "").strip("/")
    if host.startswith(("http://", "https://")):
        return SlackChannel(url=host.rstrip("/") + "/" + token if token else host)
    if token:
        return SlackChannel(url=SLACK_HOOKS + token)
    return None


def slack_channel() -> SlackChannel | None:
    """The Slack channel when one is configured (environment first, then the Airflow connection)."""
    url = os.environ.get(ENV_SLACK_WEBHOOK_URL)
    if url:
        return SlackChannel(url=url)
    conn = _airflow_connection(SLACK_CONN_ID)
    return _slack_from_connection(conn) if conn else None
