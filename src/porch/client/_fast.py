"""The async client's common case straight over :mod:`porch.client.wire`, without httpx.

A bulk reader spends most of its CPU per request, not per byte: in a warehouse sync's profile
httpx's request and response models (URL merging, header objects, the cookie jar, streams) took
about a third of the process, more than the wire and the JSON together. Most requests are
simple — a path or a ``_pagination.next`` URL on the client's own origin, a query, maybe a JSON
body — and for those this module builds the request bytes itself and answers with a light
:class:`Reply`. What it does not handle it declines (``target`` returns None), and the client
sends that request through httpx as before:

- a form or upload body, or a URL httpx would have to normalise (characters outside RFC 3986's
  set, a fragment, a URL that already has a query given more ``params``);
- an answer that is not a success (errors, redirects, 429s): it is turned back into an
  ``httpx.Response`` (``as_httpx``), so errors carry the same ``response`` either way;
- a ``Content-Encoding`` other than gzip or deflate (only those are asked for).

The fast path keeps no cookies: Front's API does not use them.
"""

from __future__ import annotations

import json
import re
import zlib
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import quote, urlsplit

import httpx
import orjson

from porch.client import wire
from porch.client._transport import httpx_error

# RFC 3986's characters, '#' left out: a target made of these is sent as it is.
_PLAIN = re.compile(r"[A-Za-z0-9\-._~:/?\[\]@!$&'()*+,;=%]*")
_ENCODED = frozenset({"gzip", "deflate", "identity", ""})


class Reply:
    """A successful answer: what :mod:`porch.client._base` reads of an ``httpx.Response``."""

    __slots__ = ("content", "headers", "method", "status_code", "url")

    is_success = True

    def __init__(
        self, method: str, url: str, status: int, headers: dict[str, str], content: bytes
    ) -> None:
        self.method = method
        self.url = url
        self.status_code = status
        self.headers = headers
        self.content = content

    def json(self) -> Any:
        try:
            return orjson.loads(self.content)
        except orjson.JSONDecodeError:
            # What orjson refuses and json takes (NaN, integers past 64 bits), or a real error.
            return json.loads(self.content)


class FastPath:
    """Requests on ``pool`` with the client's base URL, headers and timeouts."""

    def __init__(
        self,
        pool: wire.Pool,
        *,
        base_url: httpx.URL,
        headers: Mapping[str, str],
        timeout: httpx.Timeout,
    ) -> None:
        self._pool = pool
        self._base = base_url
        self._origin = wire.origin_of(base_url.scheme, base_url.host, base_url.port)
        path = base_url.raw_path.decode("ascii").split("?")[0]
        self._prefix = path if path.endswith("/") else path + "/"
        self._headers = [
            (b"Accept", b"*/*"),
            (b"Accept-Encoding", b"gzip, deflate"),
            *((k.encode("ascii"), v.encode("latin-1")) for k, v in headers.items()),
        ]
        self._connect = timeout.connect
        self._read = timeout.read

    def target(
        self, url: str | httpx.URL, params: Sequence[tuple[str, str]] | None
    ) -> tuple[wire.Origin, str] | None:
        """Where a request for ``url`` (a path under the base URL, or a full URL) with
        ``params`` goes, or None when httpx should send it."""
        text = str(url)
        if text.startswith(("http://", "https://")):
            parts = urlsplit(text)
            if parts.hostname is None:
                return None
            try:
                origin = wire.origin_of(parts.scheme, parts.hostname, parts.port)
            except ValueError:  # a port out of range
                return None
            if origin == self._origin:
                origin = self._origin
            path = (parts.path or "/") + ("?" + parts.query if parts.query else "")
        elif "://" in text or text.startswith("//"):
            return None
        else:
            origin, path = self._origin, self._prefix + text.lstrip("/")
        if "#" in path or not _PLAIN.fullmatch(path):
            return None
        if params:
            if "?" in path:
                return None
            path += "?" + "&".join(f"{quote(k, safe='[]')}={quote(v, safe='')}" for k, v in params)
        return origin, path

    async def send(
        self,
        method: str,
        origin: wire.Origin,
        target: str,
        *,
        json_body: Any,
        headers: Mapping[str, str] | None,
    ) -> Reply | httpx.Response:
        """One request; a success as a :class:`Reply`, anything else as an httpx.Response.
        Connection failures raise httpx's errors, as httpx's transport would."""
        sent = self._headers
        body = b""
        if json_body is not None:
            body = json.dumps(
                json_body, ensure_ascii=False, separators=(",", ":"), allow_nan=False
            ).encode("utf-8")
            sent = [*sent, (b"Content-Type", b"application/json")]
        if headers:
            given = {k.lower() for k in headers}
            sent = [h for h in sent if h[0].decode("ascii").lower() not in given]
            sent += [(k.encode("ascii"), v.encode("latin-1")) for k, v in headers.items()]
        try:
            answer = await self._pool.request(
                method,
                origin,
                target,
                sent,
                body,
                connect_timeout=self._connect,
                read_timeout=self._read,
            )
        except (wire.WireError, ValueError) as exc:
            raise httpx_error(exc, None) from exc
        fields = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in answer.headers}
        url = f"{origin.scheme}://{_netloc(origin)}{target}"
        coding = fields.get("content-encoding", "").strip().lower()
        if not 200 <= answer.status < 300 or coding not in _ENCODED:
            return as_httpx(method, url, answer, body)
        content = answer.body
        if coding == "gzip":
            content = zlib.decompress(content, 16 + zlib.MAX_WBITS)
        elif coding == "deflate":
            content = _inflate(content)
        return Reply(method, url, answer.status, fields, content)


def as_httpx(method: str, url: str, answer: wire.Answer, body: bytes) -> httpx.Response:
    """``answer`` as httpx would have given it (its body decoded as httpx decodes it)."""
    response = httpx.Response(
        answer.status,
        headers=answer.headers,
        stream=httpx.ByteStream(answer.body),
        extensions={"http_version": b"HTTP/1.1"},
        request=httpx.Request(method, url, content=body),
    )
    response.read()
    return response


def _netloc(origin: wire.Origin) -> str:
    host = origin.host if ":" not in origin.host else f"[{origin.host}]"
    if wire.DEFAULT_PORTS.get(origin.scheme) == origin.port:
        return host
    return f"{host}:{origin.port}"


def _inflate(data: bytes) -> bytes:
    # "deflate" is zlib-wrapped by the standard, raw deflate by some servers.
    try:
        return zlib.decompress(data)
    except zlib.error:
        return zlib.decompress(data, -zlib.MAX_WBITS)
