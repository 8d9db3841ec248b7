"""Events (Front tag "Events"): the company's public event log, filtered and paged.

``q[types]`` (repeatable, also ``q[types][]``), ``q[before]`` and ``q[after]`` (epoch seconds
with up to three decimals, both exclusive) and ``q[inboxes]`` filter; pages hold at most 15
events, newest first unless ``sort_order=asc``. Porch's admin API lists every kind of event
with the same filters (``/porch/events``, via ``list_page`` here).
"""

from __future__ import annotations

import dataclasses
import re
from typing import Any

from porch import ids
from porch.api.http import Request, Response, json_response
from porch.api.pagination import collection, read_page
from porch.api.routing import Routes
from porch.api.shapes import (
    comment_json,
    conversation_json,
    inbox_json,
    link_json,
    rule_json,
    tag_json,
    teammate_json,
)
from porch.domain import event_views
from porch.domain import events as domain
from porch.domain.comments import CommentView
from porch.domain.errors import BadRequest
from porch.domain.event_views import EventView, RuleSource, Target
from porch.store.events import Event
from porch.store.links import Link
from porch.store.tags import Tag
from porch.store.teammates import Teammate
from porch.timeutil import to_api

routes = Routes()

FRONT_PAGE = 15
_SECONDS = re.compile(r"\d{1,12}(?:\.\d{1,3})?")

# Public id prefixes of the kinds of objects events name.
PREFIXES = {
    "account": ids.ACCOUNT,
    "channel": ids.CHANNEL,
    "comment": ids.COMMENT,
    "company": ids.COMPANY,
    "contact": ids.CONTACT,
    "contact_list": ids.CONTACT_LIST,
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
    """An event of Porch's log: source, target and conversation named by ``{"id": ...}``, what
    is unknown as null (Front's list renders whole resources, see ``front_event_json``). The
    admin API (``porch``) adds the event's ``data``: what changed, as consumers read it."""
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
    out = {
        "_links": {"self": req.url(f"/porch/events/{eid}" if porch else f"/events/{eid}")},
        "id": eid,
        "type": ev.type,
        "emitted_at": to_api(ev.emitted_at),
        "source": {"_meta": {"type": ev.source_type}, "data": source_data},
        "target": target,
        "conversation": _ref("conversation", ev.conversation_id),
    }
    if porch:
        out["data"] = ev.data
    return out


# Front's target kinds (EventResponse ``target._meta.type``), from the log's target types.
FRONT_TARGETS = {
    "teammate": "teammate",
    "inbox": "inboxes",
    "inboxes": "inboxes",
    "message": "message",
    "comment": "comment",
    "tag": "tag",
    "deleted_conversation_ids": "deleted_conversation_ids",
    "link": "link",
    "custom_field": "custom_field",
}


def _target_json(req: Request, target: Target) -> dict[str, Any]:
    if isinstance(target, Teammate):
        return teammate_json(req, target)
    if isinstance(target, Tag):
        return tag_json(req, target)
    if isinstance(target, CommentView):
        return comment_json(req, target.comment, target.author, target.attachments)
    if isinstance(target, Link):
        return link_json(req, target)
    return inbox_json(req, target)


def front_event_json(req: Request, view: EventView) -> dict[str, Any]:
    """An event in Front's EventResponse shape, with whole resources.

    ``source.data`` is the teammate or the rule (Front's Rule shape) that caused it (absent for
    tokens and reminders, and for a teammate's rule the token may not see);
    ``target.data`` the teammate, tag, comment, link or inbox it was done to; ``conversation``
    the whole conversation. Front's shape admits no null there: what no longer exists, or what
    Front has no resource shape for, is left out.
    """
    ev = view.event
    eid = ids.encode(ids.EVENT, ev.id)
    source: dict[str, Any] = {"_meta": {"type": ev.source_type}}
    if isinstance(view.source, RuleSource):
        source["data"] = rule_json(req, view.source.rule, view.source.actions)
    elif view.source is not None:
        source["data"] = teammate_json(req, view.source)
    out: dict[str, Any] = {
        "_links": {"self": req.url(f"/events/{eid}")},
        "id": eid,
        "type": ev.type,
        "emitted_at": to_api(ev.emitted_at),
        "source": source,
    }
    kind = FRONT_TARGETS.get(ev.target_type or "")
    if kind is not None:
        target: dict[str, Any] = {"_meta": {"type": kind}}
        if view.target is not None:
            target["data"] = _target_json(req, view.target)
        out["target"] = target
    if view.conversation is not None:
        out["conversation"] = conversation_json(req, view.conversation)
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


async def list_page(
    req: Request, *, public_only: bool, maximum: int, conversation_id: int | None = None
) -> Response:
    """One page of the event log as ``req`` filters it (Front's list or Porch's), of one
    conversation if ``conversation_id`` is given."""
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
    if conversation_id is not None:
        filter = dataclasses.replace(filter, conversation_id=conversation_id)
    rows, nxt = await domain.list_events(
        req.db,
        principal=req.principal,
        filter=filter,
        public_only=public_only,
        after=after,
        limit=page.limit,
        descending=page.descending,
    )
    if public_only:
        shown = await event_views.views(req.db, principal=req.principal, events=rows)
        results = [front_event_json(req, v) for v in shown]
    else:
        results = [event_json(req, e, porch=True) for e in rows]
    return collection(req, results, [nxt] if nxt else None)


@routes.get("/events", "list-events", scope="events:*:read")
async def list_events(req: Request) -> Response:
    """List the company's events, newest first, 15 at most per page."""
    return await list_page(req, public_only=True, maximum=FRONT_PAGE)


@routes.get("/events/{event_id}", "get-event", scope="events:*:read")
async def get_event(req: Request) -> Response:
    """Fetch an event."""
    ev = await domain.access_event(req.db, principal=req.principal, ref=req.path_params["event_id"])
    [view] = await event_views.views(req.db, principal=req.principal, events=[ev])
    return json_response(front_event_json(req, view))
