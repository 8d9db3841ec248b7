"""Helpers for the SDK's tests: transports that record (and spec-check) what a real server
answered, and small local HTTP servers standing in for third parties."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx

from porch.client import AsyncClient, Client
from tests import conftest
from tests.conftest import Company

# Headers a proxy sets itself rather than passing on (the body is re-sent decoded, whole).
_HOP_HEADERS = ("content-length", "content-encoding", "transfer-encoding", "connection")


def token_of(company: Company) -> str:
    """The admin token the company's ``api`` calls with."""
    return company.api.http.headers["Authorization"].split(" ", 1)[1]


@dataclass(frozen=True)
class Seen:
    """One answer as the transport saw it."""

    at: float
    method: str
    url: str
    status: int
    headers: httpx.Headers

    @property
    def remaining(self) -> int | None:
        raw = self.headers.get("x-ratelimit-remaining")
        return int(raw) if raw is not None else None

    @property
    def reset(self) -> float | None:
        raw = self.headers.get("x-ratelimit-reset")
        return float(raw) if raw is not None else None


def _check(request: httpx.Request, response: httpx.Response) -> None:
    checker = conftest._checker
    if checker is not None:
        checker.check(
            request.method,
            request.url.path,
            response.status_code,
            response.content,
            response.headers.get("content-type"),
        )


class Recording(httpx.BaseTransport):
    """The real HTTP transport, remembering every answer and checking it against Front's spec
    (``spec=False`` for servers that are not Porch)."""

    def __init__(self, *, spec: bool = True) -> None:
        self.inner = httpx.HTTPTransport()
        self.spec = spec
        self.seen: list[Seen] = []
        self.lock = threading.Lock()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self.inner.handle_request(request)
        response.read()
        with self.lock:
            self.seen.append(
                Seen(
                    time.time(),
                    request.method,
                    str(request.url),
                    response.status_code,
                    response.headers,
                )
            )
        if self.spec:
            _check(request, response)
        return response

    def statuses(self) -> list[int]:
        with self.lock:
            return [s.status for s in self.seen]

    def close(self) -> None:
        self.inner.close()


class AsyncRecording(httpx.AsyncBaseTransport):
    """:class:`Recording` for the async client."""

    def __init__(self, *, spec: bool = True) -> None:
        self.inner = httpx.AsyncHTTPTransport()
        self.spec = spec
        self.seen: list[Seen] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        await response.aread()
        self.seen.append(
            Seen(
                time.time(),
                request.method,
                str(request.url),
                response.status_code,
                response.headers,
            )
        )
        if self.spec:
            _check(request, response)
        return response

    def statuses(self) -> list[int]:
        return [s.status for s in self.seen]

    async def aclose(self) -> None:
        await self.inner.aclose()


def client_of(company: Company, **kw: Any) -> tuple[Client, Recording]:
    """A sync client of the company's server with its admin token, and what it saw."""
    transport = Recording()
    return Client(company.server.url, token_of(company), transport=transport, **kw), transport


def async_client_of(company: Company, **kw: Any) -> tuple[AsyncClient, AsyncRecording]:
    transport = AsyncRecording()
    client = AsyncClient(company.server.url, token_of(company), transport=transport, **kw)
    return client, transport


class FlakyProxy:
    """A third-party reverse proxy on loopback in front of ``upstream``: it answers the
    scripted statuses first (with an HTML page, as proxies do), then forwards every request."""

    def __init__(self, upstream: str, failures: list[int]) -> None:
        self.failures = list(failures)
        self.methods: list[str] = []
        self.lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def _any(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length") or 0))
                with outer.lock:
                    outer.methods.append(self.command)
                    status = outer.failures.pop(0) if outer.failures else None
                if status is not None:
                    page = f"<html><body><h1>{status} Bad Gateway</h1></body></html>".encode()
                    self.send_response(status)
                    self.send_header("content-type", "text/html")
                    self.send_header("content-length", str(len(page)))
                    self.end_headers()
                    self.wfile.write(page)
                    return
                headers = {k: v for k, v in self.headers.items() if k.lower() != "host"}
                with httpx.Client(base_url=upstream, timeout=30) as http:
                    resp = http.request(self.command, self.path, content=body, headers=headers)
                self.send_response(resp.status_code)
                for name, value in resp.headers.items():
                    if name.lower() not in _HOP_HEADERS:
                        self.send_header(name, value)
                self.send_header("content-length", str(len(resp.content)))
                self.end_headers()
                self.wfile.write(resp.content)

            do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _any

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


class Hook:
    """A webhook receiver on loopback (a custom channel's ``webhook_url``): answers 200."""

    def __init__(self) -> None:
        self.count = 0
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("content-length") or 0))
                outer.count += 1
                self.send_response(200)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
