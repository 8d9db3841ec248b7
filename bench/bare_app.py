"""The floor Porch is measured against: a bare Starlette app reading the same rows directly.

It answers the benchmark's endpoints with the same JSON bodies Porch sends (bench/api_read.py
checks that before measuring), but with nothing else: no router of Porch's, no token lookup
(the header is compared with the one token it was given), no rate limit, no visibility rules, no
domain objects. SQLite is read with the stdlib ``sqlite3`` module on the event loop; PostgreSQL
through a raw asyncpg pool whose statements are prepared once per connection. Bodies are
serialised with orjson, as Porch does, so the comparison is of everything but the serialiser.
``GET /floor`` is the HTTP server alone (raw ASGI, a 15-byte body, no database).

Configured by the environment: BENCH_DATABASE_URL (``sqlite:///path`` or ``postgresql://...``),
BENCH_COMPANY_ID (the integer key of the company) and BENCH_TOKEN (the accepted API token).
"""

from __future__ import annotations

import base64
import hmac
import os
import sqlite3
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import urlencode

import asyncpg
import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from porch import ids

URL = os.environ.get("BENCH_DATABASE_URL", "")
COMPANY = int(os.environ.get("BENCH_COMPANY_ID", "0"))
AUTH = f"Bearer {os.environ.get('BENCH_TOKEN', '')}".encode()

_TEAMMATE_SQL = (
    "SELECT id, email, username, first_name, last_name, is_admin, is_available, is_blocked,"
    " type, license_type, custom_fields FROM teammates WHERE company_id = {0} AND id = {1}"
)
_TAG_COLUMNS = (
    "SELECT id, name, description, highlight, is_visible_in_conversation_lists, parent_id,"
    " team_id, owner_teammate_id, created_at, updated_at FROM tags"
)
_TAG_SQL = _TAG_COLUMNS + " WHERE company_id = {0} AND id = {1}"
_TAGS_SQL = _TAG_COLUMNS + " WHERE company_id = {0} AND id > {1} ORDER BY id LIMIT {2}"


class _Db:
    """Runs one fixed statement per endpoint: sqlite3 in-loop, or an asyncpg pool."""

    def __init__(self) -> None:
        self.sqlite: sqlite3.Connection | None = None
        self.pool: Any = None
        pg = not URL.startswith("sqlite")
        marks = ("$1", "$2", "$3") if pg else ("?", "?", "?")
        self.teammate = _TEAMMATE_SQL.format(*marks)
        self.tag = _TAG_SQL.format(*marks)
        self.tags = _TAGS_SQL.format(*marks)

    async def open(self) -> None:
        if URL.startswith("sqlite"):
            conn = sqlite3.connect(URL.split(":///", 1)[1], check_same_thread=False)
            conn.row_factory = sqlite3.Row
            conn.execute("PRAGMA journal_mode=WAL")
            self.sqlite = conn
        else:
            self.pool = await asyncpg.create_pool(URL, min_size=1, max_size=10)

    async def close(self) -> None:
        if self.sqlite is not None:
            self.sqlite.close()
        if self.pool is not None:
            await self.pool.close()

    async def one(self, sql: str, *args: Any) -> Mapping[str, Any] | None:
        if self.sqlite is not None:
            row: Mapping[str, Any] | None = self.sqlite.execute(sql, args).fetchone()
            return row
        found: Mapping[str, Any] | None = await self.pool.fetchrow(sql, *args)
        return found

    async def all(self, sql: str, *args: Any) -> Sequence[Mapping[str, Any]]:
        if self.sqlite is not None:
            return self.sqlite.execute(sql, args).fetchall()
        rows: Sequence[Mapping[str, Any]] = await self.pool.fetch(sql, *args)
        return rows


db = _Db()


def _json(body: object, status: int = 200) -> Response:
    return Response(orjson.dumps(body), status, media_type="application/json")


def _denied(request: Request) -> bool:
    given = request.headers.get("authorization", "").encode()
    return not hmac.compare_digest(given, AUTH)


def _base(request: Request) -> str:
    return f"{request.url.scheme}://{request.headers['host']}"


def _tag(base: str, r: Mapping[str, Any]) -> dict[str, Any]:
    tid = ids.encode(ids.TAG, r["id"])
    if r["team_id"] is not None:
        owner: str | None = f"{base}/teams/{ids.encode(ids.TEAM, r['team_id'])}"
    elif r["owner_teammate_id"] is not None:
        owner = f"{base}/teammates/{ids.encode(ids.TEAMMATE, r['owner_teammate_id'])}"
    else:
        owner = None
    parent = r["parent_id"]
    return {
        "_links": {
            "self": f"{base}/tags/{tid}",
            "related": {
                "conversations": f"{base}/tags/{tid}/conversations",
                "owner": owner,
                "parent_tag": f"{base}/tags/{ids.encode(ids.TAG, parent)}" if parent else None,
                "children": f"{base}/tags/{tid}/children",
            },
        },
        "id": tid,
        "name": r["name"],
        "description": r["description"],
        "highlight": r["highlight"],
        "is_private": r["owner_teammate_id"] is not None,
        "is_visible_in_conversation_lists": bool(r["is_visible_in_conversation_lists"]),
        "created_at": r["created_at"] / 1000,
        "updated_at": r["updated_at"] / 1000,
    }


async def get_teammate(request: Request) -> Response:
    if _denied(request):
        return _json({"_error": {"status": 401, "title": "Unauthorized"}}, 401)
    key = ids.decode(ids.TEAMMATE, request.path_params["teammate_id"])
    r = await db.one(db.teammate, COMPANY, key) if key else None
    if r is None:
        return _json({"_error": {"status": 404, "title": "Not found"}}, 404)
    base = _base(request)
    tid = ids.encode(ids.TEAMMATE, r["id"])
    return _json(
        {
            "_links": {
                "self": f"{base}/teammates/{tid}",
                "related": {
                    "inboxes": f"{base}/teammates/{tid}/inboxes",
                    "conversations": f"{base}/teammates/{tid}/conversations",
                },
            },
            "id": tid,
            "email": r["email"],
            "username": r["username"],
            "first_name": r["first_name"],
            "last_name": r["last_name"],
            "is_admin": bool(r["is_admin"]),
            "is_available": bool(r["is_available"]),
            "is_blocked": bool(r["is_blocked"]),
            "type": r["type"],
            "license_type": r["license_type"],
            "custom_fields": orjson.loads(r["custom_fields"]),
        }
    )


async def get_tag(request: Request) -> Response:
    if _denied(request):
        return _json({"_error": {"status": 401, "title": "Unauthorized"}}, 401)
    key = ids.decode(ids.TAG, request.path_params["tag_id"])
    r = await db.one(db.tag, COMPANY, key) if key else None
    if r is None:
        return _json({"_error": {"status": 404, "title": "Not found"}}, 404)
    return _json(_tag(_base(request), r))


async def list_tags(request: Request) -> Response:
    if _denied(request):
        return _json({"_error": {"status": 401, "title": "Unauthorized"}}, 401)
    raw = request.query_params.get("limit", "50")
    limit = int(raw) if raw.isdigit() and 1 <= int(raw) <= 100 else 50
    rows = await db.all(db.tags, COMPANY, 0, limit + 1)
    base = _base(request)
    nxt = None
    if len(rows) > limit:
        rows = rows[:limit]
        token = base64.urlsafe_b64encode(orjson.dumps([rows[-1]["id"]])).decode().rstrip("=")
        params = [(k, v) for k, v in request.query_params.multi_items() if k != "page_token"]
        nxt = f"{base}/tags?" + urlencode([*params, ("page_token", token)])
    return _json(
        {
            "_pagination": {"next": nxt},
            "_links": {"self": f"{base}/tags"},
            "_results": [_tag(base, r) for r in rows],
        }
    )


@asynccontextmanager
async def lifespan(_app: Starlette) -> AsyncIterator[None]:
    await db.open()
    try:
        yield
    finally:
        await db.close()


_FLOOR = b'{"status":"ok"}'
_FLOOR_HEADERS = [(b"content-type", b"application/json"), (b"content-length", b"15")]


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """``GET /floor`` answers from raw ASGI: the HTTP server's own cost, to calibrate the
    machine against docs/benchmarks.md; everything else goes to the Starlette app."""
    if scope["type"] == "http" and scope["path"] == "/floor":
        await send({"type": "http.response.start", "status": 200, "headers": _FLOOR_HEADERS})
        await send({"type": "http.response.body", "body": _FLOOR})
        return
    await starlette_app(scope, receive, send)


starlette_app = Starlette(
    routes=[
        Route("/teammates/{teammate_id}", get_teammate),
        Route("/tags/{tag_id}", get_tag),
        Route("/tags", list_tags),
    ],
    lifespan=lifespan,
)
