"""Delivery channels: a signed JSON webhook and SMTP e-mail, each with timeouts and retries with backoff.

Targets and secrets come from the environment (TRENDTRACE_WEBHOOK_*, TRENDTRACE_SMTP_*) or, when those are
unset, from the Airflow connections `trendtrace_webhook` / `trendtrace_smtp` (which Airflow also reads
from AIRFLOW_CONN_<ID>). Never from the repo, and never logged: logs name a channel by scheme, host and
port only, and every error text is scrubbed of the secret, password and full URL before it is stored.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
import re
import smtplib
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from email import policy as email_policy
from email.message import EmailMessage
from typing import Any, Protocol
from urllib.parse import urljoin, urlsplit

from pipelines import redact as scrubber
from pipelines.alerts.rules import Delivery

log = logging.getLogger(__name__)

ENV_WEBHOOK_URL = "TRENDTRACE_WEBHOOK_URL"
ENV_WEBHOOK_SECRET = "TRENDTRACE_WEBHOOK_SECRET"
ENV_SMTP_HOST = "TRENDTRACE_SMTP_HOST"
ENV_SMTP_PORT = "TRENDTRACE_SMTP_PORT"
ENV_SMTP_USER = "TRENDTRACE_SMTP_USER"
ENV_SMTP_PASSWORD = "TRENDTRACE_SMTP_PASSWORD"
ENV_SMTP_FROM = "TRENDTRACE_SMTP_FROM"
ENV_SMTP_TO = "TRENDTRACE_SMTP_TO"
ENV_SMTP_SECURITY = "TRENDTRACE_SMTP_SECURITY"  # none | starttls | ssl
WEBHOOK_CONN_ID = "trendtrace_webhook"
SMTP_CONN_ID = "trendtrace_smtp"
SIGNATURE_HEADER = "X-Trendtrace-Signature-256"
DELIVERY_HEADER = "X-Trendtrace-Delivery"
EVENT_HEADER = "X-Trendtrace-Event"


@dataclass(frozen=True)
class Message:
    """One notification, rendered for every channel: JSON for the webhook, subject + text for e-mail."""

    delivery_id: str  # stable per alert: receivers can drop a repeat (e.g. after an operator's resend)
    event: str  # "alert" | "task_failed"
    subject: str
    text: str
    payload: dict[str, Any]


@dataclass
class Outcome:
    ok: bool
    attempts: int
    error: str | None = None
    permanent: bool = False  # retrying cannot help (e.g. HTTP 400, SMTP 550)


class TransientError(Exception):
    """Worth retrying: timeouts, refused connections, HTTP 5xx/408/429, SMTP 4xx."""


class UnansweredError(TransientError):
    """The request went out whole but no answer came within the timeout: the receiver may have it (a slow
    receiver still processes it). Not retried within the run, so it gets one copy per run, not one per try;
    the next run sends it again with the same X-Trendtrace-Delivery id, which receivers dedupe on."""


class PermanentError(Exception):
    """The receiver rejected the message; retrying sends the same thing to the same refusal."""


class Channel(Protocol):
    name: str

    @property
    def target(self) -> str: ...

    def secrets(self) -> list[str]: ...

    def attempt(self, message: Message, timeout_s: float) -> None: ...


def signature(secret: str, body: bytes) -> str:
    """The signature header's value: `sha256=` + hex HMAC-SHA256 of the exact request body."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def redact(text: str, secrets: list[str]) -> str:
    """`text` without these secrets, the environment's known ones, URL user-info and token-like query values."""
    return scrubber.scrub(text, secrets)


class ChannelConfigError(ValueError):
    """A channel's configuration cannot work (e.g. a webhook URL with a space); the message never holds the
    URL itself, which may carry a token."""


_UNSAFE_URL_CHAR = re.compile(r"[\x00-\x20\x7f]")


def validate_webhook_url(url: str, source: str) -> str:
    """The URL stripped of surrounding blanks, or ChannelConfigError naming `source` and what is wrong
    (position of a bad character, scheme, host, port) but never the URL."""
    value = url.strip()
    target = _safe_target(value)
    problem = None
    bad = _UNSAFE_URL_CHAR.search(value)
    if bad:
        what = "a space" if bad.group() == " " else f"a control character (0x{ord(bad.group()):02x})"
        problem = f"it contains {what} at character {bad.start() + 1} of {len(value)}"
    else:
        try:
            parts = urlsplit(value)
            parts.port  # noqa: B018 (raises ValueError on a bad port)
        except ValueError:
            problem = "its port is not a number in 0-65535"
        else:
            if parts.scheme not in ("http", "https"):
                problem = "its scheme must be http or https"
            elif not parts.hostname:
                problem = "it has no host"
    if problem:
        raise ChannelConfigError(
            f"{source}: not a usable webhook URL: {problem} (target {target}; the URL is not shown because it "
            "may carry a token); fix it, the pending alerts are delivered by the next run"
        )
    return value


def _safe_target(url: str) -> str:
    try:
        parts = urlsplit(url)
        port = f":{parts.port}" if parts.port else ""
    except ValueError:  # e.g. a port that is not a number: say nothing more about it
        return "<unparsable URL>"
    return f"{parts.scheme}://{parts.hostname}{port}"


class _RefuseRedirects(urllib.request.HTTPRedirectHandler):
    """Never follow a redirect: urllib would turn a POST answered 301/302/303 into a body-less GET (no
    payload, no signature) whose 200 said nothing about the alert. The 3xx comes back as an HTTPError."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


_OPENER = urllib.request.build_opener(_RefuseRedirects)
PERMANENT_REDIRECTS = (301, 308)  # moved for good: the config must change, retrying cannot help


@dataclass
class WebhookChannel:
    url: str
    secret: str | None = None
    name: str = "webhook"

    @property
    def target(self) -> str:
        return _safe_target(self.url)

    def secrets(self) -> list[str]:
        # The URL itself may carry a token (path or query), so it and the parts an error may quote are secrets.
        return [s for s in (self.secret, *sorted(scrubber.secret_parts(self.url))) if s]

    def attempt(self, message: Message, timeout_s: float) -> None:
        body = json.dumps(message.payload, sort_keys=True, separators=(",", ":")).encode()
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "trendtrace-alerts",
            DELIVERY_HEADER: message.delivery_id,
            EVENT_HEADER: message.event,
        }
        if self.secret:
            headers[SIGNATURE_HEADER] = signature(self.secret, body)
        request = urllib.request.Request(self.url, data=body, headers=headers, method="POST")
        try:
            with _OPENER.open(request, timeout=timeout_s) as response:
                response.read()
                if not 200 <= response.status < 300:  # only a 2xx from the configured URL confirms
                    raise TransientError(f"HTTP {response.status} from {self.target} (not a 2xx)")
        except urllib.error.HTTPError as exc:
            if 300 <= exc.code < 400:
                moved = exc.headers.get("Location") if exc.headers else None
                where = f" to {_safe_target(urljoin(self.url, moved))}" if moved else ""
                text = (f"HTTP {exc.code} redirect from {self.target}{where} not followed (a webhook must answer "
                        "2xx at its configured URL; configure the final URL)")
                if exc.code in PERMANENT_REDIRECTS:
                    raise PermanentError(text) from None
                raise TransientError(text) from None
            if exc.code in (408, 425, 429) or exc.code >= 500:
                raise TransientError(f"HTTP {exc.code} from {self.target}") from None
            raise PermanentError(f"HTTP {exc.code} from {self.target} (rejected, not retried)") from None
        except TimeoutError:  # connect timeouts arrive as URLError below: safe to retry
            raise UnansweredError(
                f"no answer from {self.target} within {timeout_s:g} s after the request was sent; not retried in "
                "this run (the receiver may have it: it must answer within timeout_s and dedupe on "
                f"{DELIVERY_HEADER})"
            ) from None
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise TransientError(f"{self.target} unreachable: {reason}") from None


@dataclass
class EmailChannel:
    host: str
    port: int
    recipients: list[str]
    sender: str = "trendtrace@localhost"
    user: str | None = None
    password: str | None = None
    security: str = "none"  # none | starttls | ssl
    name: str = "email"

    @property
    def target(self) -> str:
        return f"smtp://{self.host}:{self.port}"

    def secrets(self) -> list[str]:
        return [self.password] if self.password else []

    def attempt(self, message: Message, timeout_s: float) -> None:
        # No folding below RFC 5322's 998 characters: Python folds a long Subject right after the colon,
        # which some clients show as a leading blank.
        email = EmailMessage(policy=email_policy.SMTP.clone(max_line_length=998))
        email["Subject"] = message.subject
        email["From"] = self.sender
        email["To"] = ", ".join(self.recipients)
        email["X-Trendtrace-Delivery"] = message.delivery_id
        email.set_content(message.text)
        smtp_class = smtplib.SMTP_SSL if self.security == "ssl" else smtplib.SMTP
        try:
            with smtp_class(self.host, self.port, timeout=timeout_s, local_hostname="localhost") as smtp:
                if self.security == "starttls":
                    smtp.starttls()
                if self.user:
                    smtp.login(self.user, self.password or "")
                smtp.send_message(email)
        except smtplib.SMTPRecipientsRefused as exc:
            raise PermanentError(f"{self.target} refused every recipient: {sorted(exc.recipients)}") from None
        except smtplib.SMTPResponseException as exc:
            text = f"SMTP {exc.smtp_code} from {self.target}: {exc.smtp_error!r}"
            if 400 <= exc.smtp_code < 500:
                raise TransientError(text) from None
            raise PermanentError(text) from None
        except (smtplib.SMTPException, OSError) as exc:
            raise TransientError(f"{self.target}: {type(exc).__name__}: {exc}") from None


@dataclass
class Sender:
    """Sends through one channel with retries and exponential backoff; `sleep` is injectable for tests."""

    delivery: Delivery
    sleep: Callable[[float], None] = field(default=time.sleep)

    def send(self, channel: Channel, message: Message) -> Outcome:
        delay = self.delivery.backoff_s
        error = "not attempted"
        attempts = 0
        for attempts in range(1, self.delivery.attempts_per_run + 1):
            try:
                channel.attempt(message, self.delivery.timeout_s)
                log.info("%s %s delivered via %s to %s (attempt %d)", message.event, message.delivery_id,
                         channel.name, channel.target, attempts)
                return Outcome(ok=True, attempts=attempts)
            except PermanentError as exc:
                error = redact(str(exc), channel.secrets())
                log.warning("%s %s rejected by %s: %s", message.event, message.delivery_id, channel.name, error)
                return Outcome(ok=False, attempts=attempts, error=f"{channel.name}: {error}", permanent=True)
            except TransientError as exc:
                error = redact(str(exc), channel.secrets())
                log.warning("%s %s via %s, attempt %d/%d: %s", message.event, message.delivery_id, channel.name,
                            attempts, self.delivery.attempts_per_run, error)
                if isinstance(exc, UnansweredError):  # one copy per run to a slow receiver, not one per try
                    return Outcome(ok=False, attempts=attempts, error=f"{channel.name}: {error}")
            except Exception as exc:  # anything else (e.g. urllib's InvalidURL quoting the path): never raw
                error = redact(f"{type(exc).__name__}: {exc}", channel.secrets())
                log.warning("%s %s via %s failed unexpectedly: %s", message.event, message.delivery_id,
                            channel.name, error)
                return Outcome(ok=False, attempts=attempts, error=f"{channel.name}: {error}", permanent=True)
            if attempts < self.delivery.attempts_per_run:
                self.sleep(delay)
                delay *= self.delivery.backoff_factor
        return Outcome(ok=False, attempts=attempts, error=f"{channel.name}: {error}")


# ---- where the targets come from -------------------------------------------------------------------


def _airflow_connection(conn_id: str) -> Any | None:
    """The Airflow connection, or None when Airflow is absent or does not define it."""
    try:
        from airflow.sdk import Connection
    except ImportError:
        return None
    try:
        return Connection.get(conn_id)
    except Exception:  # not defined, or no metadata database reachable: the channel is simply not configured
        return None


def _webhook_from_connection(conn: Any) -> WebhookChannel | None:
    extra = conn.extra_dejson or {}
    secret = conn.password or extra.get("secret")
    source = f"Airflow connection {WEBHOOK_CONN_ID}"
    if extra.get("url"):
        return WebhookChannel(url=validate_webhook_url(extra["url"], source), secret=secret)
    host = conn.host or ""
    if host.startswith(("http://", "https://")):
        return WebhookChannel(url=validate_webhook_url(host, source), secret=secret)
    if not host:
        return None
    scheme = extra.get("scheme") or (conn.conn_type if conn.conn_type in ("http", "https") else "https")
    port = f":{conn.port}" if conn.port else ""
    path = extra.get("path") or "/" + (conn.schema or "").lstrip("/")  # a URI's path lands in `schema`
    return WebhookChannel(url=validate_webhook_url(f"{scheme}://{host}{port}{path}", source), secret=secret)


def _recipients(value: Any) -> list[str]:
    if isinstance(value, str):
        value = value.split(",")
    return [v.strip() for v in (value or []) if v and v.strip()]


def _default_security(port: int) -> str:
    return {465: "ssl", 587: "starttls"}.get(port, "none")


def _email_from_connection(conn: Any) -> EmailChannel | None:
    extra = conn.extra_dejson or {}
    recipients = _recipients(extra.get("to"))
    if not conn.host or not recipients:
        return None
    port = int(conn.port or 25)
    return EmailChannel(
        host=conn.host,
        port=port,
        recipients=recipients,
        sender=extra.get("from") or "trendtrace@localhost",
        user=conn.login or None,
        password=conn.password or None,
        security=extra.get("security") or _default_security(port),
    )


def webhook_channel() -> WebhookChannel | None:
    url = os.environ.get(ENV_WEBHOOK_URL)
    if url:
        return WebhookChannel(url=validate_webhook_url(url, ENV_WEBHOOK_URL),
                              secret=os.environ.get(ENV_WEBHOOK_SECRET) or None)
    conn = _airflow_connection(WEBHOOK_CONN_ID)
    return _webhook_from_connection(conn) if conn else None


def email_channel() -> EmailChannel | None:
    host = os.environ.get(ENV_SMTP_HOST)
    if host:
        recipients = _recipients(os.environ.get(ENV_SMTP_TO))
        if not recipients:
            log.warning("%s is set but %s is empty: e-mail alerts are off", ENV_SMTP_HOST, ENV_SMTP_TO)
            return None
        port = int(os.environ.get(ENV_SMTP_PORT) or 25)
        return EmailChannel(
            host=host,
            port=port,
            recipients=recipients,
            sender=os.environ.get(ENV_SMTP_FROM) or "trendtrace@localhost",
            user=os.environ.get(ENV_SMTP_USER) or None,
            password=os.environ.get(ENV_SMTP_PASSWORD) or None,
            security=os.environ.get(ENV_SMTP_SECURITY) or _default_security(port),
        )
    conn = _airflow_connection(SMTP_CONN_ID)
    return _email_from_connection(conn) if conn else None


def _mask_in_airflow(values: list[str]) -> None:
    """Inside Airflow, also let its log masker hide these values (defence in depth: we never log them)."""
    if "airflow.sdk" not in sys.modules:
        return
    try:
        from airflow.sdk.log import mask_secret

        for value in values:
            mask_secret(value)
    except Exception:  # an older or partial Airflow: our own redaction still applies
        pass


def configured_channels(skip_broken: bool = False) -> list[Channel]:
    """Every channel with a target configured right now (environment first, then Airflow connections).

    A channel whose config cannot work raises ChannelConfigError (its message is safe to log), unless
    `skip_broken`: then it is left out with a warning, so that e.g. a failure notice still goes by e-mail.
    """
    from pipelines.alerts.slack import slack_channel  # here: slack imports this module

    found: list[Channel] = []
    for make in (webhook_channel, email_channel, slack_channel):
        try:
            channel = make()
        except ChannelConfigError as exc:
            if not skip_broken:
                raise
            log.warning("alert channel left out: %s", exc)
            continue
        if channel is not None:
            found.append(channel)
    for channel in found:
        scrubber.register(channel.secrets())
        _mask_in_airflow(channel.secrets())
    return found
