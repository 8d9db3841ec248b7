"""Front's collections: ``_pagination.next``, ``_links.self``, ``_results``.

Pages are keyset pages: ``page_token`` is the sort key of the last row shown, so a page after it
is the same whatever rows were inserted or deleted meanwhile. The token is opaque to clients
(URL-safe base64 of a JSON array) and checked on the way back in; a damaged one is a 400.
``next`` is an absolute URL carrying the request's other parameters, so clients can call it as
it is, as Airbyte and the Front SDKs do.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import orjson

from porch.api.http import Request, Response, json_response
from porch.domain.errors import BadRequest

MAX_LIMIT = 100
DEFAULT_LIMIT = 50


@dataclass(frozen=True, slots=True)
class Page:
    """What a list request asks for: how many rows, after which key, in which order."""

    limit: int
    after: list[Any] | None
    descending: bool
    sort_by: str | None


def encode_token(key: list[Any]) -> str:
    return base64.urlsafe_b64encode(orjson.dumps(key)).decode().rstrip("=")


def decode_token(token: str, width: int) -> list[Any]:
    """The key inside ``token``: a list of ``width`` ints or strings, else BadRequest."""
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        key = orjson.loads(raw)
    except (binascii.Error, ValueError) as exc:
        raise BadRequest("Invalid page_token") from exc
    if (
        not isinstance(key, list)
        or len(key) != width
        or not all(isinstance(v, int | str) and not isinstance(v, bool) for v in key)
    ):
        raise BadRequest("Invalid page_token")
    return key


def read_limit(req: Request, *, default: int = DEFAULT_LIMIT, maximum: int = MAX_LIMIT) -> int:
    """``limit`` as Front documents it: 1 to 100, capped at the endpoint's own maximum."""
    raw = req.query_one("limit")
    if raw is None or raw == "":
        return min(default, maximum)
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_LIMIT:
        raise BadRequest(f"limit must be an integer between 1 and {MAX_LIMIT}")
    return min(int(raw), maximum)


def read_page(
    req: Request,
    *,
    key_width: int = 1,
    sort_fields: tuple[str, ...] = (),
    default_desc: bool = False,
    default: int = DEFAULT_LIMIT,
    maximum: int = MAX_LIMIT,
) -> Page:
    """Parse ``limit``, ``page_token``, ``sort_by`` and ``sort_order`` for a list endpoint."""
    limit = read_limit(req, default=default, maximum=maximum)
    token = req.query_one("page_token")
    after = decode_token(token, key_width) if token else None
    sort_by = req.query_one("sort_by")
    if sort_by is not None and sort_by not in sort_fields:
        allowed = ", ".join(sort_fields) or "nothing"
        raise BadRequest(f"sort_by must be one of: {allowed}")
    order = req.query_one("sort_order")
    if order is not None and order not in ("asc", "desc"):
        raise BadRequest("sort_order must be asc or desc")
    descending = default_desc if order is None else order == "desc"
    return Page(limit, after, descending, sort_by)


def next_url(req: Request, key: list[Any]) -> str:
    """The absolute URL of the page after ``key``, keeping the request's other parameters."""
    params = [(k, v) for k, v in req.query if k not in ("page_token",)]
    params.append(("page_token", encode_token(key)))
    return req.url(req.path) + "?" + urlencode(params)


def collection(
    req: Request,
    results: list[dict[str, Any]],
    next_key: list[Any] | None = None,
    *,
    total: int | None = None,
) -> Response:
    """A Front collection body; ``next`` is null on the last page."""
    body: dict[str, Any] = {
        "_pagination": {"next": next_url(req, next_key) if next_key is not None else None},
        "_links": {"self": req.url(req.path)},
        "_results": results,
    }
    if total is not None:
        body["_total"] = total
    return json_response(body)
