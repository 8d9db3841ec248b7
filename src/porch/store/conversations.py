"""Conversation rows, their visibility, and the batch reads that render a page of them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NamedTuple

import orjson
import sqlalchemy as sa

from porch.store import attachments as files
from porch.store.db import Connection, Query, Reader, Row, in_list
from porch.store.tables import (
    attachments,
    comment_mentions,
    comments,
    conversation_followers,
    conversation_inboxes,
    conversation_links,
    conversation_tags,
    conversations,
    email_messages,
    inboxes,
    links,
    message_recipients,
    message_seen,
    messages,
    outbox,
    reminders,
    tags,
)
from porch.store.visibility import owned_by_visible

t = conversations
ci = conversation_inboxes

# Front's list filter q[statuses] and the response status, from the stored state.
STATES = ("open", "archived", "trashed", "spam")


class Conversation(NamedTuple):
    """A conversation row (fields are the table's columns, in order)."""

    id: int
    company_id: int
    type: str
    subject: str
    state: str
    assignee_id: int | None
    status_id: int | None
    waiting_since: int | None
    ticket_number: int | None
    is_private: bool
    description: str | None
    due_at: int | None
    custom_fields: str
    merged_into_id: int | None
    created_at: int
    updated_at: int
    activity_at: int

    @classmethod
    def from_row(cls, r: Row) -> Conversation:
        return cls(*r)  # type: ignore[arg-type]  # a row is a sequence of the columns

    @property
    def fields(self) -> dict[str, Any]:
        """The custom field values, keyed by field name."""
        loaded: dict[str, Any] = orjson.loads(self.custom_fields)
        return loaded

    @property
    def front_status(self) -> str:
        """Front's ``status``: assigned, unassigned, archived or deleted."""
        if self.state == "open":
            return "assigned" if self.assignee_id is not None else "unassigned"
        return "archived" if self.state == "archived" else "deleted"


assert list(Conversation._fields) == [c.name for c in t.c], "Conversation mirrors the table"

_cid = t.c.company_id == sa.bindparam("company_id")
_visible_inbox = (
    sa.select(ci.c.inbox_id)
    .join(inboxes, inboxes.c.id == ci.c.inbox_id)
    .where(ci.c.conversation_id == t.c.id, owned_by_visible(inboxes))
)
_any_inbox = sa.select(ci.c.inbox_id).where(ci.c.conversation_id == t.c.id)
_on_partner_channel = sa.select(messages.c.id).where(
    messages.c.conversation_id == t.c.id,
    messages.c.channel_id == sa.bindparam("partner_channel", type_=sa.BigInteger),
)
# A conversation is visible through any inbox it is in that the token sees; one in no inbox (a
# discussion among teammates) is company-level and visible to shared tokens. A partner's
# channel JWT (``Principal.partner_channel_id``, which has no namespace) sees the conversations
# with a message on its channel, whichever inboxes they are in.
visible = sa.or_(
    sa.exists(_visible_inbox),
    sa.and_(~sa.exists(_any_inbox), sa.bindparam("shared", type_=sa.Boolean)),
    sa.and_(sa.bindparam("partner", type_=sa.Boolean), sa.exists(_on_partner_channel)),
)

# The same for a page, given the keys of the inboxes the token sees (``inbox_sight``): a probe
# of the conversation's inbox rows instead of a join through inboxes for every row scanned.
_visible_in_page = sa.or_(
    sa.exists(
        sa.select(ci.c.inbox_id).where(
            ci.c.conversation_id == t.c.id, in_list(ci.c.inbox_id, "visible_inboxes")
        )
    ),
    sa.and_(~sa.exists(_any_inbox), sa.bindparam("shared", type_=sa.Boolean)),
)
_SIGHT = Query(
    sa.select(inboxes.c.id, owned_by_visible(inboxes).label("seen")).where(
        inboxes.c.company_id == sa.bindparam("company_id")
    )
)


async def inbox_sight(
    conn: Reader, *, company_id: int, vis: dict[str, object]
) -> tuple[bool, list[int]]:
    """Whether the token sees every conversation of the company (a shared token that sees every
    inbox), and the keys of the inboxes it sees."""
    rows = await conn.fetch_all(_SIGHT, company_id=company_id, **vis)
    seen = [int(r["id"]) for r in rows if r["seen"]]
    return bool(vis.get("shared")) and len(seen) == len(rows), seen


_BY_KEY = Query(sa.select(t).where(_cid, t.c.id == sa.bindparam("key"), visible))
_BY_KEY_ANY = Query(sa.select(t).where(_cid, t.c.id == sa.bindparam("key")))


async def get_visible(
    conn: Reader, *, company_id: int, key: int, vis: dict[str, object]
) -> Conversation | None:
    row = await conn.fetch_one(_BY_KEY, company_id=company_id, key=key, **vis)
    return Conversation.from_row(row) if row else None


async def get(conn: Reader, *, company_id: int, key: int) -> Conversation | None:
    """A conversation whatever the token sees (for actions already past access)."""
    row = await conn.fetch_one(_BY_KEY_ANY, company_id=company_id, key=key)
    return Conversation.from_row(row) if row else None


# --- Pages --------------------------------------------------------------------------------

_SCOPES: dict[str, Any] = {
    "all": sa.true(),
    "inbox": sa.exists(
        sa.select(ci.c.inbox_id).where(
            ci.c.conversation_id == t.c.id, ci.c.inbox_id == sa.bindparam("owner")
        )
    ),
    "assignee": t.c.assignee_id == sa.bindparam("owner"),
    "tag": sa.exists(
        sa.select(conversation_tags.c.tag_id).where(
            conversation_tags.c.conversation_id == t.c.id,
            conversation_tags.c.tag_id == sa.bindparam("owner"),
        )
    ),
    # A contact's conversations: those with a message it sent or received. Driven from the
    # contact's recipient rows (indexed by contact), not by probing every conversation.
    "contact": t.c.id.in_(
        sa.select(messages.c.conversation_id)
        .join(message_recipients, message_recipients.c.message_id == messages.c.id)
        .where(message_recipients.c.contact_id == sa.bindparam("owner"))
    ),
    "link": sa.exists(
        sa.select(conversation_links.c.link_id).where(
            conversation_links.c.conversation_id == t.c.id,
            conversation_links.c.link_id == sa.bindparam("owner"),
        )
    ),
}


def _param_true(name: str) -> sa.ColumnElement[bool]:
    return sa.bindparam(name, type_=sa.Boolean) == sa.true()


_open = t.c.state == "open"
_archived = t.c.state == "archived"
# q[statuses]: the states asked for, and for open ones which side of assigned/unassigned.
_BY_STATUS = sa.or_(
    in_list(t.c.state, "states"),
    sa.and_(_open, _param_true("assigned"), t.c.assignee_id.is_not(None)),
    sa.and_(_open, _param_true("unassigned"), t.c.assignee_id.is_(None)),
)
# q[status_categories] / q[status_ids]: a conversation's ticket status is its status_id when
# that agrees with its state, else the default status of its state (see domain/tickets.py).
# resolved_ids are the statuses an open conversation falls back from, unresolved_ids (open
# ones) those an archived conversation falls back from.
_BY_TICKET = sa.or_(
    sa.and_(_open, in_list(t.c.status_id, "open_ids")),
    sa.and_(_archived, in_list(t.c.status_id, "archived_ids")),
    sa.and_(
        _open,
        _param_true("open_default"),
        sa.or_(t.c.status_id.is_(None), in_list(t.c.status_id, "resolved_ids")),
    ),
    sa.and_(
        _archived,
        _param_true("archived_default"),
        sa.or_(t.c.status_id.is_(None), in_list(t.c.status_id, "unresolved_ids")),
    ),
)
_FILTERS: dict[str | None, Any] = {None: sa.true(), "statuses": _BY_STATUS, "ticket": _BY_TICKET}


@dataclass(frozen=True, slots=True)
class StatusFilter:
    """Which conversations a list keeps: by Front status (``kind="statuses"``: ``states`` plus
    the open ones ``assigned`` / ``unassigned``) or by ticket status (``kind="ticket"``)."""

    kind: str
    states: tuple[str, ...] = ()
    assigned: bool = False
    unassigned: bool = False
    open_ids: tuple[int, ...] = ()
    archived_ids: tuple[int, ...] = ()
    open_default: bool = False
    archived_default: bool = False
    resolved_ids: tuple[int, ...] = ()
    unresolved_ids: tuple[int, ...] = ()

    def params(self) -> dict[str, Any]:
        return {
            "states": list(self.states),
            "assigned": self.assigned,
            "unassigned": self.unassigned,
            "open_ids": list(self.open_ids),
            "archived_ids": list(self.archived_ids),
            "open_default": self.open_default,
            "archived_default": self.archived_default,
            "resolved_ids": list(self.resolved_ids),
            "unresolved_ids": list(self.unresolved_ids),
        }


def _page_query(scope: str, descending: bool, kind: str | None, everything: bool) -> Query:
    at = sa.bindparam("at", type_=sa.BigInteger)
    key = sa.bindparam("after", type_=sa.BigInteger)
    after = (
        sa.or_(t.c.activity_at < at, sa.and_(t.c.activity_at == at, t.c.id < key))
        if descending
        else sa.or_(t.c.activity_at > at, sa.and_(t.c.activity_at == at, t.c.id > key))
    )
    # A token that sees everything needs no visibility test at all, and PostgreSQL plans the
    # test as a pass over every conversation's inbox rows (~200 ms at 100,000 conversations).
    seen = sa.true() if everything else _visible_in_page
    where = [_cid, t.c.merged_into_id.is_(None), seen, _SCOPES[scope], after]
    if kind is not None:
        where.append(_FILTERS[kind])
    order = (t.c.activity_at.desc(), t.c.id.desc()) if descending else (t.c.activity_at, t.c.id)
    return Query(sa.select(t).where(*where).order_by(*order).limit(sa.bindparam("lim")))


_PAGES = {
    (s, d, k, e): _page_query(s, d, k, e)
    for s in _SCOPES
    for d in (False, True)
    for k in (None, "statuses", "ticket")
    for e in (False, True)
}
_NO_FILTER = StatusFilter(kind="")


async def page(
    conn: Reader,
    *,
    company_id: int,
    vis: dict[str, object],
    scope: str,
    owner: int | None,
    after: tuple[int, int] | None,
    limit: int,
    descending: bool,
    status_filter: StatusFilter | None,
) -> list[Conversation]:
    """Up to ``limit`` visible conversations of ``scope`` after the key (activity_at, id), in
    order of last activity, kept by ``status_filter``. Merged ones are never listed."""
    if after is None:
        after = (2**62, 2**62) if descending else (-1, -1)
    f = status_filter or _NO_FILTER
    everything, seen = await inbox_sight(conn, company_id=company_id, vis=vis)
    rows = await conn.fetch_all(
        _PAGES[(scope, descending, f.kind or None, everything)],
        visible_inboxes=seen,
        company_id=company_id,
        owner=owner,
        at=after[0],
        after=after[1],
        lim=limit,
        **f.params(),
        **vis,
    )
    return [Conversation.from_row(r) for r in rows]


# --- What a page renders with -------------------------------------------------------------

_INBOXES_OF = Query(
    sa.select(ci.c.conversation_id, ci.c.inbox_id)
    .where(in_list(ci.c.conversation_id, "keys"))
    .order_by(ci.c.conversation_id, ci.c.inbox_id)
)
_TAGS_OF = Query(
    sa.select(conversation_tags.c.conversation_id, tags)
    .join(tags, tags.c.id == conversation_tags.c.tag_id)
    .where(in_list(conversation_tags.c.conversation_id, "keys"))
    .order_by(conversation_tags.c.conversation_id, tags.c.id)
)
_LINKS_OF = Query(
    sa.select(conversation_links.c.conversation_id, links)
    .join(links, links.c.id == conversation_links.c.link_id)
    .where(in_list(conversation_links.c.conversation_id, "keys"))
    .order_by(conversation_links.c.conversation_id, links.c.id)
)
_REMINDERS_OF = Query(
    sa.select(reminders)
    .where(in_list(reminders.c.conversation_id, "keys"), reminders.c.fired_at.is_(None))
    .order_by(reminders.c.conversation_id, reminders.c.scheduled_at)
)


def _grouped(rows: list[Row], key: str = "conversation_id") -> dict[int, list[Row]]:
    out: dict[int, list[Row]] = {}
    for r in rows:
        out.setdefault(r[key], []).append(r)
    return out


async def inbox_keys_of(conn: Reader, *, keys: list[int]) -> dict[int, list[int]]:
    rows = await conn.fetch_all(_INBOXES_OF, keys=keys)
    return {k: [r["inbox_id"] for r in v] for k, v in _grouped(rows).items()}


async def tag_rows_of(conn: Reader, *, keys: list[int]) -> dict[int, list[Row]]:
    """Tag rows (prefixed by ``conversation_id``) of each conversation."""
    return _grouped(await conn.fetch_all(_TAGS_OF, keys=keys))


async def link_rows_of(conn: Reader, *, keys: list[int]) -> dict[int, list[Row]]:
    return _grouped(await conn.fetch_all(_LINKS_OF, keys=keys))


async def reminder_rows_of(conn: Reader, *, keys: list[int]) -> dict[int, list[Row]]:
    """Scheduled (not yet fired) reminders of each conversation."""
    return _grouped(await conn.fetch_all(_REMINDERS_OF, keys=keys))


# --- Updates: followers, reminders, deletion ------------------------------------------------

_FOLLOWERS_OF = Query(
    sa.select(conversation_followers.c.teammate_id)
    .where(conversation_followers.c.conversation_id == sa.bindparam("key"))
    .order_by(conversation_followers.c.teammate_id)
)
_REMINDER = Query(
    sa.select(reminders).where(
        reminders.c.company_id == sa.bindparam("company_id"),
        reminders.c.conversation_id == sa.bindparam("key"),
        reminders.c.teammate_id == sa.bindparam("teammate_id"),
    )
)
_ACTIVE_REMINDERS = Query(
    sa.select(reminders.c.id).where(
        reminders.c.company_id == sa.bindparam("company_id"),
        reminders.c.conversation_id == sa.bindparam("key"),
        reminders.c.fired_at.is_(None),
    )
)
# Every company's reminders that fell due and have not fired, soonest first (the worker's scan).
_DUE = Query(
    sa.select(reminders)
    .where(
        reminders.c.fired_at.is_(None),
        reminders.c.scheduled_at <= sa.bindparam("now", type_=sa.BigInteger),
    )
    .order_by(reminders.c.scheduled_at, reminders.c.id)
    .limit(sa.bindparam("lim"))
)
# Claiming a reminder: only the first writer sees a row changed, so it fires once.
_FIRE = Query(
    sa.update(reminders)
    .where(reminders.c.id == sa.bindparam("key"), reminders.c.fired_at.is_(None))
    .values(fired_at=sa.bindparam("now", type_=sa.BigInteger))
)
_MERGED_INTO = Query(sa.select(t.c.id).where(_cid, in_list(t.c.merged_into_id, "keys")))
_comment_keys = sa.select(comments.c.id).where(in_list(comments.c.conversation_id, "keys"))
_message_keys = sa.select(messages.c.id).where(in_list(messages.c.conversation_id, "keys"))
_DELETES = [
    # Files of the messages (drafts included) and comments; their blobs stay in the store,
    # shared by content with whatever else holds the same bytes.
    Query(
        sa.delete(attachments).where(
            sa.or_(
                sa.and_(
                    sa.or_(
                        attachments.c.owner_type == files.MESSAGE,
                        attachments.c.owner_type == files.DRAFT,
                    ),
                    attachments.c.owner_id.in_(_message_keys),
                ),
                sa.and_(
                    attachments.c.owner_type == files.COMMENT,
                    attachments.c.owner_id.in_(_comment_keys),
                ),
            )
        )
    ),
    Query(sa.delete(message_seen).where(message_seen.c.message_id.in_(_message_keys))),
    Query(sa.delete(email_messages).where(email_messages.c.message_id.in_(_message_keys))),
    Query(sa.delete(outbox).where(outbox.c.message_id.in_(_message_keys))),
    Query(sa.delete(message_recipients).where(message_recipients.c.message_id.in_(_message_keys))),
    Query(sa.delete(messages).where(in_list(messages.c.conversation_id, "keys"))),
    Query(sa.delete(comment_mentions).where(comment_mentions.c.comment_id.in_(_comment_keys))),
    Query(sa.delete(comments).where(in_list(comments.c.conversation_id, "keys"))),
    Query(sa.delete(reminders).where(in_list(reminders.c.conversation_id, "keys"))),
    *[
        Query(sa.delete(j).where(in_list(j.c.conversation_id, "keys")))
        for j in (
            conversation_inboxes,
            conversation_tags,
            conversation_followers,
            conversation_links,
        )
    ],
    Query(sa.delete(t).where(_cid, in_list(t.c.id, "keys"))),
]


async def follower_keys(conn: Reader, *, key: int) -> list[int]:
    return [r["teammate_id"] for r in await conn.fetch_all(_FOLLOWERS_OF, key=key)]


async def reminder_of(conn: Reader, *, company_id: int, key: int, teammate_id: int) -> Row | None:
    """The reminder row (fired or not) of one teammate on a conversation."""
    return await conn.fetch_one(_REMINDER, company_id=company_id, key=key, teammate_id=teammate_id)


async def has_active_reminder(conn: Reader, *, company_id: int, key: int) -> bool:
    return bool(await conn.fetch_all(_ACTIVE_REMINDERS, company_id=company_id, key=key))


async def due_reminders(conn: Reader, *, now: int, limit: int) -> list[Row]:
    """Reminders of any company due at ``now`` and not fired yet, soonest first."""
    return await conn.fetch_all(_DUE, now=now, lim=limit)


async def claim_reminder(tx: Connection, *, key: int, now: int) -> bool:
    """Mark a reminder fired; False if another process fired it first."""
    return await tx.execute(_FIRE, key=key, now=now) == 1


async def delete_for_good(tx: Connection, *, company_id: int, key: int) -> None:
    """Delete a conversation, the conversations merged into it, and everything that hangs off
    them (join rows, reminders, comments and their mentions). Events stay."""
    doomed = [key]
    frontier = [key]
    while frontier:
        rows = await tx.fetch_all(_MERGED_INTO, company_id=company_id, keys=frontier)
        frontier = [r["id"] for r in rows if r["id"] not in doomed]
        doomed.extend(frontier)
    for q in _DELETES:
        await tx.execute(q, company_id=company_id, keys=doomed)
