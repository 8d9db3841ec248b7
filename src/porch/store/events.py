"""Reading the event log (``porch.events.log`` writes it).

Pages are keyset pages on the event key, which follows the order events were appended in.
Filters are bound parameters of one compiled statement per (public only, order) pair: a filter
not asked for is switched off by its flag rather than by a different statement.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson
import sqlalchemy as sa

from porch.store.conversations import visible as conversation_visible
from porch.store.db import Query, Reader, Row, in_list
from porch.store.tables import conversation_inboxes, conversations, events

t = events

# Bounds that no filter value reaches, for the filters not asked for.
_NO_LOWER = -(2**62)
_NO_UPPER = 2**62


@dataclass(frozen=True, slots=True)
class Event:
    id: int
    company_id: int
    type: str
    is_public: bool
    emitted_at: int
    conversation_id: int | None
    source_type: str
    source_id: int | None
    target_type: str | None
    target_id: int | None
    data: dict[str, Any]

    @classmethod
    def from_row(cls, r: Row) -> Event:
        return cls(
            r["id"],
            r["company_id"],
            r["type"],
            bool(r["is_public"]),
            r["emitted_at"],
            r["conversation_id"],
            r["source_type"],
            r["source_id"],
            r["target_type"],
            r["target_id"],
            orjson.loads(r["data"]),
        )


@dataclass(frozen=True, slots=True)
class Filter:
    """What a list asks for; None means "any"."""

    types: list[str] | None = None
    after_ms: int | None = None
    before_ms: int | None = None
    inbox_ids: list[int] | None = None
    conversation_id: int | None = None


def _flag(name: str) -> sa.BindParameter[bool]:
    return sa.bindparam(name, type_=sa.Boolean)


_cid = t.c.company_id == sa.bindparam("company_id")
# Which events the caller may see. An event of a conversation is visible with the conversation
# (store.conversations.visible). An event without a conversation concerns company configuration
# (tags, teammates, settings...) and is shown to tokens with company-wide (shared or
# provisioning) access.
_conv = conversations.c
_visible = sa.or_(
    sa.and_(t.c.conversation_id.is_(None), _flag("company_wide")),
    sa.exists(sa.select(_conv.id).where(_conv.id == t.c.conversation_id, conversation_visible)),
    # The events of a conversation deleted for good stay readable by company-wide tokens, so
    # that consumers of the log (a warehouse sync) learn of the deletion.
    sa.and_(
        _flag("company_wide"),
        t.c.conversation_id.is_not(None),
        ~sa.exists(sa.select(_conv.id).where(_conv.id == t.c.conversation_id)),
    ),
)
_filters = sa.and_(
    sa.or_(_flag("any_type"), in_list(t.c.type, "types")),
    t.c.emitted_at > sa.bindparam("after_ms", type_=sa.BigInteger),
    t.c.emitted_at < sa.bindparam("before_ms", type_=sa.BigInteger),
    # q[inboxes] keeps the events of conversations in those inboxes.
    sa.or_(
        sa.not_(_flag("by_inbox")),
        sa.exists(
            sa.select(conversation_inboxes.c.inbox_id).where(
                conversation_inboxes.c.conversation_id == t.c.conversation_id,
                in_list(conversation_inboxes.c.inbox_id, "inbox_ids"),
            )
        ),
    ),
    # The events of one conversation (GET /conversations/{id}/events).
    sa.or_(
        sa.not_(_flag("by_conversation")),
        t.c.conversation_id == sa.bindparam("conversation_key", type_=sa.BigInteger),
    ),
)


def _page_query(public_only: bool, descending: bool) -> Query:
    cursor: sa.BindParameter[int] = sa.bindparam("cursor", type_=sa.BigInteger)
    where = [_cid, _visible, _filters, t.c.id < cursor if descending else t.c.id > cursor]
    if public_only:
        where.append(t.c.is_public == sa.true())
    return Query(
        sa.select(t)
        .where(*where)
        .order_by(t.c.id.desc() if descending else t.c.id)
        .limit(sa.bindparam("lim"))
    )


_PAGES = {(p, d): _page_query(p, d) for p in (False, True) for d in (False, True)}
_BY_KEY = {
    p: Query(
        sa.select(t).where(
            _cid,
            _visible,
            t.c.id == sa.bindparam("key"),
            *([t.c.is_public == sa.true()] if p else []),
        )
    )
    for p in (False, True)
}


async def get_visible(
    conn: Reader,
    *,
    company_id: int,
    key: int,
    public_only: bool,
    company_wide: bool,
    vis: dict[str, object],
) -> Event | None:
    row = await conn.fetch_one(
        _BY_KEY[public_only], company_id=company_id, key=key, company_wide=company_wide, **vis
    )
    return Event.from_row(row) if row else None


async def page(
    conn: Reader,
    *,
    company_id: int,
    public_only: bool,
    company_wide: bool,
    vis: dict[str, object],
    filter: Filter,
    after: int | None,
    limit: int,
    descending: bool,
) -> list[Event]:
    """Up to ``limit`` visible events matching ``filter``, after the key ``after``."""
    if after is None:
        after = 2**63 - 1 if descending else 0
    rows = await conn.fetch_all(
        _PAGES[(public_only, descending)],
        company_id=company_id,
        company_wide=company_wide,
        any_type=filter.types is None,
        types=filter.types or [],
        after_ms=_NO_LOWER if filter.after_ms is None else filter.after_ms,
        before_ms=_NO_UPPER if filter.before_ms is None else filter.before_ms,
        by_inbox=filter.inbox_ids is not None,
        inbox_ids=filter.inbox_ids or [],
        by_conversation=filter.conversation_id is not None,
        conversation_key=filter.conversation_id or 0,
        cursor=after,
        **vis,
        lim=limit,
    )
    return [Event.from_row(r) for r in rows]
