"""Real receivers on 127.0.0.1 for delivery tests: an HTTP webhook endpoint and an SMTP server (aiosmtpd).

Both record what they received; the webhook can be told to fail its first N requests, and `free_port()`
gives an address where nothing listens yet (a receiver that is down, started later on the same port).
"""

from __future__ import annotations

import json
import socket
import threading
import time
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
    at: float = 0.0  # when it arrived (epoch s): latency benches measure delivery against it

    def json(self) -> Any:
        return json.loads(self.body)


class WebhookReceiver:
    """A threaded HTTP server: answers `fail_status` to the first `fail_first` POSTs, then 200.

    `requests` holds every request (failed ones too, any method); `delivered` only those answered 200.
    `redirect_status` (301, 302, 303, 307, 308): every request to the hook's path is answered with that
    redirect to `/moved` on the same server, which answers 200 to anything (so a client that follows
    redirects "succeeds" there). `delay_s`: the hook reads the request, then waits that long before
    answering (a slow receiver; it still records the request and counts it delivered if it answers).
    """

    PATH = "/hooks/trendtrace"
    MOVED = "/moved"

    def __init__(self, port: int = 0, fail_first: int = 0, fail_status: int = 500,
                 redirect_status: int | None = None, delay_s: float = 0.0) -> None:
        self.fail_first = fail_first
        self.fail_status = fail_status
        self.redirect_status = redirect_status
        self.delay_s = delay_s
        self.requests: list[Received] = []
        self.methods: list[str] = []  # method of each request, in order
        self._lock = threading.Lock()
        self._stop = threading.Event()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                redirect = receiver.redirect_status if self.path.split("?")[0] != receiver.MOVED else None
                with receiver._lock:
                    status = redirect or (receiver.fail_status if len(receiver.requests) < receiver.fail_first else 200)
                    receiver.requests.append(Received(self.path, dict(self.headers.items()), body, status, time.time()))
                    receiver.methods.append(self.command)
                if receiver.delay_s:
                    receiver._stop.wait(receiver.delay_s)
                self.send_response(status)
                if redirect:
                    self.send_header("Location", f"http://{HOST}:{receiver.port}{receiver.MOVED}?token=moved-secret")
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok" if status == 200 else b"no")

            def do_POST(self) -> None:
                self._answer()

            def do_GET(self) -> None:
                self._answer()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer((HOST, port), Handler)
        self.port = self.server.server_address[1]
        self.url = f"http://{HOST}:{self.port}{self.PATH}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def delivered(self) -> list[Received]:
        return [r for r in self.requests if r.status == 200]

    def __enter__(self) -> WebhookReceiver:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()  # a slow answer still pending returns at once
        self.server.shutdown()
        self.server.server_close()
        self._thread.join(timeout=5)


@dataclass
class _Handler:
    messages: list[EmailMessage] = field(default_factory=list)
    envelopes: list[tuple[str, list[str]]] = field(default_factory=list)

    async def handle_DATA(self, server, session, envelope) -> str:
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
