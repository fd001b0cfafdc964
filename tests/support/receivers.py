"""Real receivers on 127.0.0.1 for delivery tests: an HTTP webhook endpoint and an SMTP server (aiosmtpd).

Both record what they received; the webhook can be told to fail its first N requests, and `free_port()`
gives an address where nothing listens yet (a receiver that is down, started later on the same port).
"""

from __future__ import annotations

import json
import socket
import threading
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

HOST = "127.0.0.1"


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    status: int  # what the receiver answered

    def json(self) -> Any:
        return json.loads(self.body)


class WebhookReceiver:
    """A threaded HTTP server: answers `fail_status` to the first `fail_first` POSTs, then 200.

    `requests` holds every request (failed ones too); `delivered` only those answered 200.
    """

    def __init__(self, port: int = 0, fail_first: int = 0, fail_status: int = 500) -> None:
        self.fail_first = fail_first
        self.fail_status = fail_status
        self.requests: list[Received] = []
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with receiver._lock:
                    status = receiver.fail_status if len(receiver.requests) < receiver.fail_first else 200
                    receiver.requests.append(Received(self.path, dict(self.headers.items()), body, status))
                self.send_response(status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok" if status == 200 else b"no")

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer((HOST, port), Handler)
        self.port = self.server.server_address[1]
        self.url = f"http://{HOST}:{self.port}/hooks/trendtrace"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def delivered(self) -> list[Received]:
        return [r for r in self.requests if r.status == 200]

    def __enter__(self) -> WebhookReceiver:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self._thread.join(timeout=5)


@dataclass
class _Handler:
    messages: list[EmailMessage] = field(default_factory=list)
    envelopes: list[tuple[str, list[str]]] = field(default_factory=list)

    async def handle_DATA(self, server, session, envelope) -> str:  # noqa: N802 (aiosmtpd's naming)
        self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        self.messages.append(message_from_bytes(envelope.original_content or envelope.content, policy=policy.default))
        return "250 Message accepted for delivery"


class SmtpReceiver:
    """aiosmtpd on 127.0.0.1 in its own thread; `messages` are the parsed e-mails received."""

    def __init__(self) -> None:
        from aiosmtpd.controller import Controller

        self.handler = _Handler()
        self.port = free_port()
        self.controller = Controller(self.handler, hostname=HOST, port=self.port, server_hostname="localhost")

    @property
    def messages(self) -> list[EmailMessage]:
        return self.handler.messages

    @property
    def envelopes(self) -> list[tuple[str, list[str]]]:
        return self.handler.envelopes

    def __enter__(self) -> SmtpReceiver:
        self.controller.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.controller.stop()
