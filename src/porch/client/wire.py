"""A small HTTP/1.1 client on asyncio: keep-alive connections per origin, whole bodies.

httpx's own transport (httpcore, h11, anyio) spends about a millisecond of CPU per request on
the machines Porch targets, which made the client the bound of every bulk job: the contact
sync, the warehouse sync and webhook delivery each measured 60-70 % of their CPU there. This
module does only what those jobs need — one request at a time per connection, bodies held in
memory, no proxies, no HTTP/2 — with llhttp (through ``httptools``, which uvicorn already
brings) parsing the answers; ``porch.client`` puts it under httpx as a transport, and the
webhook worker calls it directly.

Promises: a request is written only on a connection that was open and idle; one whose
connection turns out to have been closed by the server before any byte of an answer arrived
(a keep-alive race) is sent again once on a new connection — the server never saw it. Every
other failure is raised as a :class:`WireError` saying whether the request may have been
received (``sent``), so callers decide about retrying.
"""

from __future__ import annotations

import asyncio
import ssl
import time
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import cast

import httptools

DEFAULT_PORTS = {"http": 80, "https": 443}


class WireError(Exception):
    """A request that got no complete answer. ``sent``: it may have reached the server."""

    def __init__(self, message: str, *, sent: bool) -> None:
        super().__init__(message)
        self.sent = sent


class ConnectError(WireError):
    """No connection could be made (nothing was sent)."""


class ConnectTimeout(ConnectError):
    """Connecting took longer than allowed (nothing was sent)."""


class ReadTimeout(WireError):
    """The answer took longer than allowed."""


class Disconnected(WireError):
    """The server closed the connection before a complete answer."""


class ProtocolError(WireError):
    """The server's bytes were not HTTP/1.x."""


@dataclass(frozen=True, slots=True)
class Origin:
    """Where connections go. ``tag`` separates connections made under different rules (the
    webhook worker keeps those allowed to reach private addresses apart)."""

    scheme: str
    host: str
    port: int
    tag: str = ""


@dataclass(slots=True)
class Answer:
    status: int
    headers: list[tuple[bytes, bytes]]
    body: bytes


# What to connect to for an origin: an address, after whatever check the caller makes.
Resolve = Callable[[Origin], Awaitable[str]]


class _Connection(asyncio.Protocol):
    """One TCP (or TLS) connection and the answer it is reading."""

    def __init__(self, origin: Origin) -> None:
        self.origin = origin
        self.transport: asyncio.Transport | None = None
        self.closed = False
        self.idle_since = 0.0
        self._parser = httptools.HttpResponseParser(self)
        self._waiter: asyncio.Future[Answer] | None = None
        self._head = False
        self._headers: list[tuple[bytes, bytes]] = []
        self._chunks: list[bytes] = []
        self._got_bytes = False
        self._headers_done = False
        self._until_close = False
        self._reusable = False

    # asyncio.Protocol

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports have the interface without deriving from asyncio's classes.
        self.transport = cast(asyncio.Transport, transport)

    def data_received(self, data: bytes) -> None:
        if self._waiter is None:
            # Bytes nobody asked for: the connection is no longer in a known state.
            self.close()
            return
        self._got_bytes = True
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserError as exc:
            self._fail(ProtocolError(f"invalid HTTP answer: {exc}", sent=True))
            self.close()

    def eof_received(self) -> bool:
        return False  # close our side too

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if self._waiter is None or self._waiter.done():
            return
        if self._headers_done and self._until_close:
            self._finish(reusable=False)  # a body delimited by the end of the connection
        else:
            why = f": {exc}" if exc else ""
            self._fail(
                Disconnected(f"server disconnected without a complete answer{why}", sent=True)
            )

    # httptools callbacks

    def on_header(self, name: bytes, value: bytes) -> None:
        self._headers.append((name, value))

    def on_headers_complete(self) -> None:
        self._headers_done = True
        names = {n.lower() for n, _ in self._headers}
        status = self._parser.get_status_code()
        self._until_close = (
            b"content-length" not in names
            and b"transfer-encoding" not in names
            and status >= 200
            and status not in (204, 304)
        )
        if self._head:
            # llhttp cannot know that an answer to HEAD has no body; the connection is not
            # reused, so whatever it expected does not matter.
            self._finish(reusable=False)

    def on_body(self, body: bytes) -> None:
        self._chunks.append(body)

    def on_message_complete(self) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._finish(reusable=self._parser.should_keep_alive())

    # the exchange

    def _finish(self, *, reusable: bool) -> None:
        assert self._waiter is not None
        self._reusable = reusable
        answer = Answer(self._parser.get_status_code(), self._headers, b"".join(self._chunks))
        if not self._waiter.done():
            self._waiter.set_result(answer)

    def _fail(self, exc: WireError) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_exception(exc)

    async def exchange(self, request: bytes, *, head: bool, timeout: float | None) -> Answer:
        """Write ``request`` and wait for its whole answer."""
        assert self.transport is not None
        loop = asyncio.get_running_loop()
        self._waiter = loop.create_future()
        self._head = head
        self._headers, self._chunks = [], []
        self._got_bytes = self._headers_done = self._until_close = self._reusable = False
        try:
            self.transport.write(request)
            async with asyncio.timeout(timeout):
                return await self._waiter
        except TimeoutError:
            self.close()
            raise ReadTimeout(f"no complete answer within {timeout} s", sent=True) from None
        except BaseException:
            self.close()
            raise
        finally:
            self._waiter = None

    @property
    def got_bytes(self) -> bool:
        return self._got_bytes

    @property
    def reusable(self) -> bool:
        return self._reusable and not self.closed

    def close(self) -> None:
        self.closed = True
        if self.transport is not None:
            self.transport.close()


@dataclass(slots=True)
class _Idle:
    by_origin: dict[Origin, deque[_Connection]] = field(default_factory=dict)
    count: int = 0


class Pool:
    """Keep-alive connections, at most ``limit`` requests in flight (callers beyond it wait).

    ``ssl_context`` verifies https origins (``ssl.create_default_context()`` when None);
    ``resolve`` picks the address to connect to (the host name itself when None); connections
    idle for ``idle_seconds`` are closed before the server's own keep-alive timeout would
    (uvicorn's is 5 s) race a request."""

    def __init__(
        self,
        *,
        limit: int = 100,
        ssl_context: ssl.SSLContext | None = None,
        resolve: Resolve | None = None,
        idle_seconds: float = 4.0,
    ) -> None:
        self._slots = asyncio.Semaphore(limit)
        self._limit = limit
        self._ssl = ssl_context
        self._resolve = resolve
        self._idle_seconds = idle_seconds
        self._idle = _Idle()
        self._closed = False

    async def request(
        self,
        method: str,
        origin: Origin,
        target: str,
        headers: Sequence[tuple[bytes, bytes]],
        body: bytes = b"",
        *,
        connect_timeout: float | None = 10.0,
        read_timeout: float | None = 30.0,
    ) -> Answer:
        """Send one request and return its answer. ``headers`` are sent as given after
        ``Host`` (unless they carry one) and ``Content-Length`` (unless they carry it or a
        ``Transfer-Encoding``)."""
        wire = _request_bytes(method, origin, target, headers, body)
        head = method.upper() == "HEAD"
        async with self._slots:
            for _ in range(2):
                conn = self._take(origin)
                fresh = conn is None
                if conn is None:
                    conn = await self._open(origin, connect_timeout)
                try:
                    answer = await conn.exchange(wire, head=head, timeout=read_timeout)
                except Disconnected:
                    if fresh or conn.got_bytes:
                        raise
                    continue  # a kept-alive connection the server had closed: it saw nothing
                if conn.reusable:
                    self._put(conn)
                else:
                    conn.close()
                return answer
        raise AssertionError("unreachable")  # pragma: no cover

    def _take(self, origin: Origin) -> _Connection | None:
        idle = self._idle.by_origin.get(origin)
        now = time.monotonic()
        while idle:
            conn = idle.pop()  # the most recently used: the least likely to have timed out
            self._idle.count -= 1
            if not conn.closed and now - conn.idle_since < self._idle_seconds:
                return conn
            conn.close()
        return None

    def _put(self, conn: _Connection) -> None:
        if self._closed or self._idle.count >= self._limit:
            conn.close()
            return
        conn.idle_since = time.monotonic()
        self._idle.by_origin.setdefault(conn.origin, deque()).append(conn)
        self._idle.count += 1

    async def _open(self, origin: Origin, timeout: float | None) -> _Connection:
        loop = asyncio.get_running_loop()
        tls: ssl.SSLContext | None = None
        if origin.scheme == "https":
            if self._ssl is None:
                self._ssl = ssl.create_default_context()
            tls = self._ssl
        try:
            async with asyncio.timeout(timeout):
                address = origin.host if self._resolve is None else await self._resolve(origin)
                transport, conn = await loop.create_connection(
                    lambda: _Connection(origin),
                    address,
                    origin.port,
                    ssl=tls,
                    server_hostname=origin.host if tls is not None else None,
                )
        except TimeoutError:
            raise ConnectTimeout(
                f"connecting to {origin.host}:{origin.port} timed out", sent=False
            ) from None
        except (OSError, ssl.SSLError) as exc:
            raise ConnectError(
                f"cannot connect to {origin.host}:{origin.port}: {exc}", sent=False
            ) from exc
        # uvloop may return before it has called connection_made.
        if conn.transport is None:
            conn.transport = transport
        return conn

    async def aclose(self) -> None:
        """Close the idle connections; those in use close when their request ends."""
        self._closed = True
        for idle in self._idle.by_origin.values():
            for conn in idle:
                conn.close()
        self._idle = _Idle()


def origin_of(scheme: str, host: str, port: int | None, tag: str = "") -> Origin:
    """The origin of a URL's parts (the scheme's default port when none is given)."""
    return Origin(scheme, host, port if port is not None else DEFAULT_PORTS[scheme], tag)


def _request_bytes(
    method: str, origin: Origin, target: str, headers: Sequence[tuple[bytes, bytes]], body: bytes
) -> bytes:
    lines = [f"{method} {target} HTTP/1.1\r\n".encode("ascii")]
    names = set()
    for name, value in headers:
        # A line break in a header would let it write headers (or a request) of its own.
        if b"\n" in name or b"\r" in name or b"\n" in value or b"\r" in value:
            raise ValueError(f"header {name!r} contains a line break")
        names.add(name.lower())
    if b"host" not in names:
        default = DEFAULT_PORTS.get(origin.scheme) == origin.port
        host = origin.host if ":" not in origin.host else f"[{origin.host}]"
        if not host.isascii():
            host = host.encode("idna").decode("ascii")
        lines.append(f"Host: {host if default else f'{host}:{origin.port}'}\r\n".encode("ascii"))
    sized = b"content-length" in names or b"transfer-encoding" in names
    if not sized and (body or method.upper() not in ("GET", "HEAD", "DELETE", "OPTIONS")):
        lines.append(b"Content-Length: %d\r\n" % len(body))
    for name, value in headers:
        lines.append(name + b": " + value + b"\r\n")
    lines.append(b"\r\n")
    lines.append(body)
    return b"".join(lines)
