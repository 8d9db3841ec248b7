"""A deliberately small HTTP layer over ASGI.

Porch answers a few hundred routes and must stay within a small factor of a bare Starlette
endpoint (bench/api_read.py), so requests are plain objects with lazily parsed parts and
responses are pre-serialised bytes. Request bodies are validated by pydantic models declared in
the API modules; errors in them become 400 envelopes with one detail per problem.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import parse_qsl, quote

import orjson
import pydantic

from porch.domain.errors import BadRequest, PayloadTooLarge

if TYPE_CHECKING:
    from porch.app import Porch
    from porch.domain.principal import Principal
    from porch.store.db import Database

M = TypeVar("M", bound=pydantic.BaseModel)

JSON = "application/json"
# Paths of our own ids are plain; anything else (an alias echoed back) is percent-encoded.
_NEEDS_QUOTING = re.compile(r"[^A-Za-z0-9_./:@!$&'()*+,;=~-]")


class Request:
    """One HTTP request as a handler sees it."""

    __slots__ = (
        "_base_url",
        "_body",
        "_headers",
        "_query",
        "app",
        "method",
        "path",
        "path_params",
        "principal",
        "receive",
        "scope",
    )

    def __init__(self, app: Porch, scope: dict[str, Any], receive: Any) -> None:
        self.app = app
        self.scope = scope
        self.receive = receive
        self.method: str = scope["method"]
        self.path: str = scope["path"]
        self.path_params: dict[str, str] = {}
        self.principal: Principal = None  # type: ignore[assignment]  # set by the app
        self._headers: dict[str, str] | None = None
        self._query: list[tuple[str, str]] | None = None
        self._body: bytes | None = None
        self._base_url: str | None = None

    @property
    def db(self) -> Database:
        return self.app.db

    def header(self, name: str) -> str | None:
        """The value of header ``name`` (lower case), or None."""
        if self._headers is None:
            self._headers = {
                k.decode("latin-1"): v.decode("latin-1") for k, v in self.scope["headers"]
            }
        return self._headers.get(name)

    @property
    def query(self) -> list[tuple[str, str]]:
        """The query string as (name, value) pairs, in order, repeated names kept."""
        if self._query is None:
            raw = self.scope.get("query_string", b"").decode("latin-1")
            try:
                self._query = parse_qsl(raw, keep_blank_values=True, errors="strict")
            except (UnicodeDecodeError, ValueError) as exc:
                raise BadRequest("The query string is not valid UTF-8") from exc
        return self._query

    def query_one(self, name: str) -> str | None:
        """The last value of query parameter ``name``."""
        found = None
        for key, value in self.query:
            if key == name:
                found = value
        return found

    def query_all(self, name: str) -> list[str]:
        """Every value of ``name``, accepting both ``q[x]=a&q[x]=b`` and ``q[x][]=a``."""
        alt = name + "[]"
        return [v for k, v in self.query if k in (name, alt)]

    @property
    def base_url(self) -> str:
        """The absolute URL clients reach this server at, honouring a proxy's headers."""
        if self._base_url is None:
            configured = self.app.settings.public_url
            if configured:
                self._base_url = configured.rstrip("/")
            else:
                proto = self.header("x-forwarded-proto") or self.scope.get("scheme", "http")
                host = self.header("x-forwarded-host") or self.header("host")
                if not host:
                    server = self.scope.get("server") or ("127.0.0.1", 80)
                    host = f"{server[0]}:{server[1]}"
                self._base_url = f"{proto.split(',')[0].strip()}://{host.split(',')[0].strip()}"
        return self._base_url

    def url(self, path: str) -> str:
        """The absolute URL of ``path`` on this server (percent-encoded where needed)."""
        if _NEEDS_QUOTING.search(path) is None:
            return self.base_url + path
        return self.base_url + quote(path, safe="/:@!$&'()*+,;=")

    async def body(self) -> bytes:
        """The whole body, refused with 413 past the configured JSON body limit."""
        if self._body is None:
            limit = self.app.settings.max_json_body
            length = self.header("content-length")
            if length and length.isdigit() and int(length) > limit:
                raise PayloadTooLarge(f"The request body is larger than {limit} bytes")
            chunks: list[bytes] = []
            size = 0
            more = True
            while more:
                message = await self.receive()
                chunk = message.get("body", b"")
                size += len(chunk)
                if size > limit:
                    raise PayloadTooLarge(f"The request body is larger than {limit} bytes")
                chunks.append(chunk)
                more = message.get("more_body", False)
            self._body = b"".join(chunks)
        return self._body

    async def json(self) -> Any:
        """The body parsed as JSON; an empty body is an empty object."""
        raw = await self.body()
        if not raw.strip():
            return {}
        try:
            return orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            raise BadRequest("The request body is not valid JSON", details=[str(exc)]) from exc

    async def parse(self, model: type[M]) -> M:
        """The JSON body validated against ``model``; every problem becomes one detail."""
        data = await self.json()
        if not isinstance(data, dict):
            raise BadRequest("The request body must be a JSON object")
        try:
            return model.model_validate(data)
        except pydantic.ValidationError as exc:
            raise BadRequest(
                "The request body is invalid", details=validation_details(exc)
            ) from exc


def validation_details(exc: pydantic.ValidationError) -> list[str]:
    """One readable line per pydantic error: ``field.path: message``."""
    out = []
    for err in exc.errors(include_url=False, include_input=False):
        where = ".".join(str(p) for p in err["loc"]) or "body"
        out.append(f"{where}: {err['msg']}")
    return out


class Response:
    """A finished response: status, body bytes, extra headers."""

    __slots__ = ("body", "content_type", "headers", "status")

    def __init__(
        self,
        status: int = 200,
        body: bytes = b"",
        content_type: str | None = JSON,
        headers: list[tuple[str, str]] | None = None,
    ) -> None:
        self.status = status
        self.body = body
        self.content_type = content_type
        self.headers = headers if headers is not None else []


def json_response(data: Any, status: int = 200) -> Response:
    return Response(status, orjson.dumps(data))


def no_content() -> Response:
    return Response(204, b"", None)


def accepted() -> Response:
    """Front's 202 body for work taken on and done later."""
    return Response(202, b'{"status":"accepted"}')
