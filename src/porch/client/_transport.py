"""httpx over :mod:`porch.client.wire`: the clients' default async transport.

httpx keeps what callers see (requests, responses, decoding, errors); the wire underneath
costs a fraction of httpcore's CPU per request. Used unless the environment names a proxy,
which only httpx's own transport knows how to go through.
"""

from __future__ import annotations

import ssl
import urllib.request

import httpx

from porch.client import wire


def proxied() -> bool:
    """Whether the environment asks for a proxy (then httpx's own transport is used)."""
    return any(k in ("http", "https", "all") for k in urllib.request.getproxies())


def httpx_error(exc: Exception, request: httpx.Request | None) -> httpx.TransportError:
    """The httpx error for a failure of :mod:`wire` (a ValueError: a request it refused)."""
    kinds: list[tuple[type[Exception], type[httpx.TransportError]]] = [
        (wire.ConnectTimeout, httpx.ConnectTimeout),
        (wire.ConnectError, httpx.ConnectError),
        (wire.ReadTimeout, httpx.ReadTimeout),
        (wire.WireError, httpx.RemoteProtocolError),
    ]
    for kind, error in kinds:
        if isinstance(exc, kind):
            return error(str(exc), request=request)
    return httpx.LocalProtocolError(str(exc), request=request)


class WireTransport(httpx.AsyncBaseTransport):
    """An httpx transport over one :class:`wire.Pool` (HTTP/1.1, bodies in memory)."""

    def __init__(self, *, ssl_context: ssl.SSLContext | None = None, limit: int = 100) -> None:
        self.pool = wire.Pool(limit=limit, ssl_context=ssl_context)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        url = request.url
        if url.scheme not in wire.DEFAULT_PORTS:
            raise httpx.UnsupportedProtocol(f"unsupported scheme {url.scheme!r}")
        body = await request.aread()
        origin = wire.origin_of(url.scheme, url.host, url.port)
        timeouts = request.extensions.get("timeout", {})
        try:
            answer = await self.pool.request(
                request.method,
                origin,
                url.raw_path.decode("ascii"),
                request.headers.raw,
                body,
                connect_timeout=timeouts.get("connect"),
                read_timeout=timeouts.get("read"),
            )
        except (wire.WireError, ValueError) as exc:
            raise httpx_error(exc, request) from exc
        return httpx.Response(
            answer.status,
            headers=answer.headers,
            stream=httpx.ByteStream(answer.body),
            extensions={"http_version": b"HTTP/1.1"},
            request=request,
        )

    async def aclose(self) -> None:
        await self.pool.aclose()
