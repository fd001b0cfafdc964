"""Scrub secrets from any text before it is logged or stored (pipeline_runs.message, alerts.last_error, logs,
failure notifications).

Known secrets are the alert channels' settings (webhook URL and its parts, signing secret, SMTP password),
read from the environment here and registered by `pipelines.alerts.channels` for channels configured through
Airflow connections. On top of them, any URL's user-info and token-like query values are blanked, so a secret
we were not told about is still not printed in full.
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Iterable
from urllib.parse import unquote, urlsplit

MASK = "***"
# Environment variables whose values are secrets (or URLs that may carry one).
SECRET_ENV = (
    "TRENDTRACE_WEBHOOK_URL",
    "TRENDTRACE_WEBHOOK_SECRET",
    "TRENDTRACE_SMTP_PASSWORD",
    "AIRFLOW_CONN_TRENDTRACE_WEBHOOK",
    "AIRFLOW_CONN_TRENDTRACE_SMTP",
)
MIN_SECRET = 4  # shorter values (e.g. a path "/") would blank ordinary words: not treated as secrets
MIN_PART = 6  # each side of a space inside a URL's path is a secret from this length on

_registered: set[str] = set()
_lock = threading.Lock()
_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)[^/\s@'\"]*@")
_TOKEN_QUERY = re.compile(
    r"(?i)([?&;](?:token|access_token|api_key|apikey|key|secret|sig|signature|password|pass|auth|code)=)[^&\s'\"]+"
)


def secret_parts(value: str) -> set[str]:
    """A secret and, when it looks like a URL, the parts an error message may quote on their own: the path
    with its query (urllib quotes only that), the path, the query, the user-info and password, and, when a
    stray space splits it, each side of the space."""
    whole = {value, value.strip()}
    pieces: set[str] = set()
    if "://" in value:
        try:
            split = urlsplit(value.strip())
            password = split.password
        except ValueError:
            split, password = None, None
        if split is not None:
            selector = split.path + (f"?{split.query}" if split.query else "")
            whole |= {selector, split.path, split.query, split.fragment, split.netloc.rpartition("@")[0]}
            if password:
                whole |= {password, unquote(password)}
            pieces = {piece for piece in re.split(r"\s+", selector) if len(piece) >= MIN_PART}
    parts = whole | pieces
    parts |= {repr(p)[1:-1] for p in list(parts)}  # as repr() quotes it (escaped backslashes and quotes)
    return {p for p in parts if len(p.strip("/")) >= MIN_SECRET}


def register(values: Iterable[str | None]) -> None:
    """Remember secrets found outside the environment (e.g. read from an Airflow connection)."""
    with _lock:
        for value in values:
            if value:
                _registered.update(secret_parts(value))


def known_secrets() -> set[str]:
    found: set[str] = set()
    for name in SECRET_ENV:
        value = os.environ.get(name)
        if value:
            found |= secret_parts(value)
    with _lock:
        found |= _registered
    return found


def scrub(text: str, extra: Iterable[str | None] = ()) -> str:
    """`text` with every known secret (and `extra`) replaced by ***, URL user-info and token-like query
    values blanked. Never raises."""
    if not text:
        return text
    secrets = known_secrets()
    for value in extra:
        if value:
            secrets |= secret_parts(value)
    for secret in sorted(secrets, key=len, reverse=True):
        text = text.replace(secret, MASK)
    text = _USERINFO.sub(lambda m: m.group(1) + MASK + "@", text)
    return _TOKEN_QUERY.sub(lambda m: m.group(1) + MASK, text)


def scrub_exception(exc: BaseException) -> str:
    """`Type: message` of an exception, scrubbed."""
    return scrub(f"{type(exc).__name__}: {exc}")
