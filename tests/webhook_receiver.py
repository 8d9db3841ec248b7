"""A webhook receiver for the webhook tests and the bench: a real HTTP server on 127.0.0.1
that records every request (headers, raw body, arrival time) and answers as scripted: the sync
challenge echoed (in a chosen form), a fixed status, a delay, or not at all (down)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import orjson


@dataclass
class Hit:
    headers: dict[str, str]
    body: bytes
    at: float  # time.time()

    def json(self) -> Any:
        return orjson.loads(self.body)


class Receiver:
    def __init__(self, port: int = 0) -> None:
        self.hits: list[Hit] = []
        self.lock = threading.Lock()
        self.status = 200
        self.delay = 0.0
        # How the sync challenge is echoed: "text", "form", "json", "wrong" or "ignore".
        self.echo = "text"
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("content-length") or 0))
                headers = {k.lower(): v for k, v in self.headers.items()}
                if outer.delay:
                    time.sleep(outer.delay)
                with outer.lock:
                    outer.hits.append(Hit(headers, raw, time.time()))
                    status = outer.status
                body = b""
                challenge = headers.get("x-front-challenge")
                if challenge is not None:
                    body = {
                        "text": challenge.encode(),
                        "form": f"challenge={challenge}".encode(),
                        "json": orjson.dumps({"challenge": challenge}),
                        "wrong": b"nope",
                        "ignore": b"",
                    }[outer.echo]
                self.send_response(status)
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}/hook"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def events(self) -> list[Hit]:
        """Hits that are webhooks (not sync challenges)."""
        with self.lock:
            return [h for h in self.hits if "x-front-challenge" not in h.headers]

    def wait(self, cond: Callable[[list[Hit]], bool], seconds: float = 20.0) -> list[Hit]:
        deadline = time.monotonic() + seconds
        while True:
            hits = self.events()
            if cond(hits):
                return hits
            if time.monotonic() > deadline:
                raise AssertionError(f"receiver: condition not met; got {len(hits)} hits")
            time.sleep(0.05)

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def app_signature_ok(secret: str, hit: Hit) -> bool:
    """Front's application-webhook signature, checked independently of Porch's code."""
    ts = hit.headers["x-front-request-timestamp"]
    mac = hmac.new(secret.encode(), ts.encode() + b":" + hit.body, hashlib.sha256).digest()
    return hmac.compare_digest(base64.b64encode(mac).decode(), hit.headers["x-front-signature"])


def rule_signature_ok(api_secret: str, hit: Hit) -> bool:
    mac = hmac.new(api_secret.encode(), hit.body, hashlib.sha1).digest()
    return hmac.compare_digest(base64.b64encode(mac).decode(), hit.headers["x-front-signature"])
