"""Events (Front tag "Events"): the company's public event log, filtered and paged.

``q[types]`` (repeatable, also ``q[types][]``), ``q[before]`` and ``q[after]`` (epoch seconds
with up to three decimals, both exclusive) and ``q[inboxes]`` filter; pages hold at most 15
events, newest first unless ``sort_order=asc``. Porch's admin API lists every kind of event
with the same filters (``/porch/events``, via ``list_page`` here).
"""

from __future__ import annotations

import re
from typing import Any

from porch import ids
from porch.api.http import Request, Response, json_response
from porch.api.pagination import collection, read_page
from porch.api.routing import Routes
from porch.domain import events as domain
from porch.domain.errors import BadRequest
from porch.store.events import Event
from porch.timeutil import to_api

routes = Routes()

FRONT_PAGE = 15
_SECONDS = re.compile(r"\d{1,12}(?:\.\d{1,3})?")

# Public id prefixes of the kinds of objects events name.
PREFIXES = {
    "channel": ids.CHANNEL,
    "comment": ids.COMMENT,
    "company": ids.COMPANY,
    "contact": ids.CONTACT,
    "conversation": ids.CONVERSATION,
    "custom_field": ids.CUSTOM_FIELD,
    "inbox": ids.INBOX,
    "link": ids.LINK,
    "message": ids.MESSAGE,
    "signature": ids.SIGNATURE,
    "status": ids.STATUS,
    "tag": ids.TAG,
    "team": ids.TEAM,
    "teammate": ids.TEAMMATE,
    "teammate_group": ids.TEAMMATE_GROUP,
    "token": ids.TOKEN,
}


def _ref(kind: str | None, key: int | None) -> dict[str, Any] | None:
    prefix = PREFIXES.get(kind or "")
    if prefix is None or key is None:
        return None
    return {"id": ids.encode(prefix, key)}


def event_json(req: Request, ev: Event, *, porch: bool = False) -> dict[str, Any]:
    """An event in Front's EventResponse shape.

    Porch's log (``porch=True``) names source, target and conversation by ``{"id": ...}`` and
    shows what is unknown as null. Front's shape admits no null there and wants whole resources
    in ``data``, so for Front's list what Porch cannot fill yet is left out: the conversation
    and target resources arrive with conversations.
    """
    eid = ids.encode(ids.EVENT, ev.id)
    # API tokens are not resources of Front's API: an api source carries no data.
    source_data = (
        None if ev.source_type in ("api", "oauth_client") else _ref(ev.source_type, ev.source_id)
    )
    target = (
        {"_meta": {"type": ev.target_type}, "data": _ref(ev.target_type, ev.target_id)}
        if ev.target_type is not None
        else None
    )
    conversation = _ref("conversation", ev.conversation_id)
    out: dict[str, Any] = {
        "_links": {"self": req.url(f"/porch/events/{eid}" if porch else f"/events/{eid}")},
        "id": eid,
        "type": ev.type,
        "emitted_at": to_api(ev.emitted_at),
        "source": {"_meta": {"type": ev.source_type}, "data": source_data},
        "target": target,
        "conversation": conversation,
    }
    if porch:
        return out
    if source_data is None:
        del out["source"]["data"]
    if target is None:
        del out["target"]
    else:
        del target["data"]
    if conversation is None:
        del out["conversation"]
    return out


def _seconds(req: Request, name: str) -> int | None:
    """``q[name]`` as milliseconds: epoch seconds with up to three decimals, else 400."""
    raw = req.query_one(name)
    if raw is None:
        return None
    if not _SECONDS.fullmatch(raw):
        raise BadRequest(f"{name} must be a timestamp in seconds with up to 3 decimals")
    whole, _, frac = raw.partition(".")
    return int(whole) * 1000 + int(frac.ljust(3, "0"))


async def list_page(req: Request, *, public_only: bool, maximum: int) -> Response:
    """One page of the event log as ``req`` filters it (Front's list or Porch's)."""
    page = read_page(
        req, sort_fields=("created_at",), default_desc=True, default=FRONT_PAGE, maximum=maximum
    )
    after = page.after[0] if page.after else None
    if after is not None and not isinstance(after, int):
        raise BadRequest("Invalid page_token")
    filter = await domain.check_filter(
        req.db,
        principal=req.principal,
        types=req.query_all("q[types]"),
        after_ms=_seconds(req, "q[after]"),
        before_ms=_seconds(req, "q[before]"),
        inbox_refs=req.query_all("q[inboxes]"),
        public_only=public_only,
    )
    rows, nxt = await domain.list_events(
        req.db,
        principal=req.principal,
        filter=filter,
        public_only=public_only,
        after=after,
        limit=page.limit,
        descending=page.descending,
    )
    return collection(
        req, [event_json(req, e, porch=not public_only) for e in rows], [nxt] if nxt else None
    )


@routes.get("/events", "list-events", scope="events:*:read")
async def list_events(req: Request) -> Response:
    """List the company's events, newest first, 15 at most per page."""
    return await list_page(req, public_only=True, maximum=FRONT_PAGE)


@routes.get("/events/{event_id}", "get-event", scope="events:*:read")
async def get_event(req: Request) -> Response:
    """Fetch an event."""
    ev = await domain.access_event(req.db, principal=req.principal, ref=req.path_params["event_id"])
    return json_response(event_json(req, ev))
