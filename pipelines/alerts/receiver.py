"""A local webhook receiver for the demo: appends every delivery to a JSON-lines file, signature checked.

    uv run python -m pipelines.alerts.receiver --port 8765 --out data/demo/received_alerts.jsonl

Listens on 127.0.0.1 only. The signing secret is read from TRENDTRACE_WEBHOOK_SECRET (never a flag, so it
stays out of process listings); each line records the event, delivery id, whether the signature verified,
and the payload. Not for production: a real receiver should also dedupe on X-Trendtrace-Delivery.
"""

from __future__ import annotations

import argparse
import hmac
import json
import os
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from pipelines.alerts.channels import DELIVERY_HEADER, ENV_WEBHOOK_SECRET, EVENT_HEADER, SIGNATURE_HEADER, signature


def make_server(port: int, out: Path, secret: str | None) -> ThreadingHTTPServer:
    lock = threading.Lock()
    out.parent.mkdir(parents=True, exist_ok=True)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            sent = self.headers.get(SIGNATURE_HEADER)
            verified = bool(secret and sent and hmac.compare_digest(sent, signature(secret, body)))
            try:
                payload = json.loads(body)
            except ValueError:
                self.send_response(400)
                self.end_headers()
                return
            record = {"event": self.headers.get(EVENT_HEADER), "delivery_id": self.headers.get(DELIVERY_HEADER),
                      "signature_verified": verified, "payload": payload}
            with lock, out.open("a", encoding="utf-8") as f:
                f.write(json.dumps(record, sort_keys=True) + "\n")
            self.send_response(200 if verified or not secret else 401)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            pass

    return ThreadingHTTPServer(("127.0.0.1", port), Handler)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    server = make_server(args.port, args.out, os.environ.get(ENV_WEBHOOK_SECRET) or None)
    print(f"receiving trendtrace webhooks on http://127.0.0.1:{server.server_address[1]}/ -> {args.out}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
