"""Message rows, their recipients, and the reads that thread and render them."""

from __future__ import annotations

from typing import Any, NamedTuple

import orjson
import sqlalchemy as sa

from porch.store.db import Connection, Query, Reader, Row, in_list, of_company
from porch.store.tables import conversations, message_recipients, messages, tags

t = messages
r = message_recipients
c = conversations


class Message(NamedTuple):
    """A message row (fields are the table's columns, in order)."""

    id: int
    company_id: int
    conversation_id: int
    uid: str
    type: str
    is_inbound: bool
    is_draft: bool
    author_id: int | None
    subject: str
    body: str
    text: str
    blurb: str
    external_id: str | None
    thread_ref: str | None
    created_at: int
    channel_id: int | None
    inbox_id: int | None
    metadata: str
    draft_mode: str | None
    version: str | None
    delivery_status: str | None
    error_type: str | None

    @classmethod
    def from_row(cls, row: Row) -> Message:
        return cls(*row)  # type: ignore[arg-type]  # a row is a sequence of the columns

    @property
    def meta(self) -> dict[str, Any]:
        loaded: dict[str, Any] = orjson.loads(self.metadata)
        return loaded


assert list(Message._fields) == [col.name for col in t.c], "Message mirrors the messages table"

_cid = t.c.company_id == sa.bindparam("company_id")
_BY_KEY = Query(sa.select(t).where(_cid, t.c.id == sa.bindparam("key")))
_BY_UID = Query(sa.select(t).where(_cid, t.c.uid == sa.bindparam("uid")))
_BY_EXTERNAL_ID = Query(
    sa.select(t).where(
        _cid,
        t.c.inbox_id == sa.bindparam("inbox_id"),
        t.c.external_id == sa.bindparam("external_id"),
    )
)
_RECIPIENTS_OF = Query(
    sa.select(r)
    .where(of_company(r.c.company_id), in_list(r.c.message_id, "keys"))
    .order_by(r.c.message_id, r.c.position)
)


def _where_place(scope: str) -> Any:
    """Messages received on one channel, or imported into one inbox."""
    if scope == "channel":
        return t.c.channel_id == sa.bindparam("place")
    return sa.and_(t.c.inbox_id == sa.bindparam("place"), t.c.channel_id.is_(None))


def _by_ref(scope: str) -> Query:
    return Query(
        sa.select(t.c.conversation_id)
        .where(_cid, _where_place(scope), t.c.thread_ref == sa.bindparam("thread_ref"))
        .order_by(t.c.created_at.desc(), t.c.id.desc())
        .limit(1)
    )


def _by_sender(scope: str) -> Query:
    # The sender's latest conversation in the place that is still open or archived: a trashed
    # or spammed one does not take new messages of the thread.
    return Query(
        sa.select(t.c.conversation_id)
        .join(r, r.c.message_id == t.c.id)
        .join(c, c.c.id == t.c.conversation_id)
        .where(
            _cid,
            _where_place(scope),
            r.c.role == "from",
            r.c.contact_id == sa.bindparam("contact_id"),
            sa.or_(c.c.state == "open", c.c.state == "archived"),
            c.c.merged_into_id.is_(None),
        )
        .order_by(t.c.created_at.desc(), t.c.id.desc())
        .limit(1)
    )


_THREAD_BY_REF = {s: _by_ref(s) for s in ("channel", "inbox")}
_THREAD_BY_SENDER = {s: _by_sender(s) for s in ("channel", "inbox")}


def _page_query(descending: bool) -> Query:
    at = sa.bindparam("at", type_=sa.BigInteger)
    key = sa.bindparam("after", type_=sa.BigInteger)
    after = (
        sa.or_(t.c.created_at < at, sa.and_(t.c.created_at == at, t.c.id < key))
        if descending
        else sa.or_(t.c.created_at > at, sa.and_(t.c.created_at == at, t.c.id > key))
    )
    order = (t.c.created_at.desc(), t.c.id.desc()) if descending else (t.c.created_at, t.c.id)
    return Query(
        sa.select(t)
        .where(
            _cid,
            t.c.conversation_id == sa.bindparam("conversation_id"),
            t.c.is_draft == sa.false(),
            after,
        )
        .order_by(*order)
        .limit(sa.bindparam("lim"))
    )


_PAGES = {d: _page_query(d) for d in (False, True)}

_latest = sa.alias(t, "latest")
_c = conversations
# The latest message of each conversation, with its recipients (for a conversation's recipient).
# Driven by the conversations asked for: one probe of ix_messages_conversation_id_created_at per
# conversation (newest first, first row), not a test of every message of those conversations.
_latest_id = (
    sa.select(_latest.c.id)
    .where(
        _latest.c.conversation_id == _c.c.id,
        _latest.c.company_id == _c.c.company_id,
        _latest.c.is_draft == sa.false(),
    )
    .order_by(_latest.c.created_at.desc(), _latest.c.id.desc())
    .limit(1)
    .scalar_subquery()
)
_LATEST_RECIPIENTS = Query(
    sa.select(t.c.conversation_id, t.c.is_inbound, r)
    .select_from(_c.join(t, t.c.id == _latest_id).join(r, r.c.message_id == t.c.id))
    .where(_c.c.company_id == sa.bindparam("company_id"), in_list(_c.c.id, "keys"))
    .order_by(t.c.conversation_id, r.c.position)
)


async def get(conn: Reader, *, company_id: int, key: int) -> Message | None:
    row = await conn.fetch_one(_BY_KEY, company_id=company_id, key=key)
    return Message.from_row(row) if row else None


async def by_uid(conn: Reader, *, company_id: int, uid: str) -> Message | None:
    row = await conn.fetch_one(_BY_UID, company_id=company_id, uid=uid)
    return Message.from_row(row) if row else None


async def by_external_id(
    conn: Reader, *, company_id: int, inbox_id: int, external_id: str
) -> Message | None:
    row = await conn.fetch_one(
        _BY_EXTERNAL_ID, company_id=company_id, inbox_id=inbox_id, external_id=external_id
    )
    return Message.from_row(row) if row else None


async def recipients_of(conn: Reader, *, company_id: int, keys: list[int]) -> dict[int, list[Row]]:
    """The recipient rows of each message, in their order (the sender first)."""
    out: dict[int, list[Row]] = {}
    if not keys:
        return out
    for row in await conn.fetch_all(_RECIPIENTS_OF, company_id=company_id, keys=keys):
        out.setdefault(row["message_id"], []).append(row)
    return out


async def thread_by_ref(
    conn: Reader, *, company_id: int, scope: str, place: int, thread_ref: str
) -> int | None:
    """The conversation of the latest message with ``thread_ref`` on the channel or inbox
    (``scope``) ``place``."""
    row = await conn.fetch_one(
        _THREAD_BY_REF[scope], company_id=company_id, place=place, thread_ref=thread_ref
    )
    return int(row["conversation_id"]) if row else None


async def thread_by_sender(
    conn: Reader, *, company_id: int, scope: str, place: int, contact_id: int
) -> int | None:
    """The latest open or archived conversation with a message from ``contact_id`` on the
    channel or inbox (``scope``) ``place``."""
    row = await conn.fetch_one(
        _THREAD_BY_SENDER[scope], company_id=company_id, place=place, contact_id=contact_id
    )
    return int(row["conversation_id"]) if row else None


async def page(
    conn: Reader,
    *,
    company_id: int,
    conversation_id: int,
    after: tuple[int, int] | None,
    limit: int,
    descending: bool,
) -> list[Message]:
    """Up to ``limit`` messages of a conversation after the key (created_at, id)."""
    if after is None:
        after = (2**62, 2**62) if descending else (-(2**62), -1)
    rows = await conn.fetch_all(
        _PAGES[descending],
        company_id=company_id,
        conversation_id=conversation_id,
        at=after[0],
        after=after[1],
        lim=limit,
    )
    return [Message.from_row(row) for row in rows]


async def latest_recipients_of(
    conn: Reader, *, company_id: int, keys: list[int]
) -> dict[int, tuple[bool, list[Row]]]:
    """For each conversation with messages: whether its latest message is inbound, and that
    message's recipient rows in order."""
    out: dict[int, tuple[bool, list[Row]]] = {}
    if not keys:
        return out
    for row in await conn.fetch_all(_LATEST_RECIPIENTS, company_id=company_id, keys=keys):
        inbound, rows = out.setdefault(row["conversation_id"], (bool(row["is_inbound"]), []))
        rows.append(row)
    return out


_COMPANY_TAG = Query(
    sa.select(tags.c.id).where(
        tags.c.company_id == sa.bindparam("company_id"),
        tags.c.name == sa.bindparam("name"),
        tags.c.team_id.is_(None),
        tags.c.owner_teammate_id.is_(None),
        tags.c.parent_id.is_(None),
    )
)


async def company_tag_key(conn: Reader, *, company_id: int, name: str) -> int | None:
    """The key of the top-level company tag named ``name`` (imports tag by name)."""
    row = await conn.fetch_one(_COMPANY_TAG, company_id=company_id, name=name)
    return int(row["id"]) if row else None


_ADD_RECIPIENT = Query(
    sa.insert(r).values({col.name: sa.bindparam(col.name, type_=col.type) for col in r.c})
)


_ADD_RECIPIENTS: dict[int, Query] = {}


async def add_recipients(tx: Connection, *, rows: list[dict[str, Any]]) -> None:
    """Insert a message's recipient rows (each with every column) in one statement."""
    if not rows:
        return
    q = _ADD_RECIPIENTS.get(len(rows))
    if q is None:
        q = _ADD_RECIPIENTS[len(rows)] = Query(
            sa.insert(r).values(
                [
                    {col.name: sa.bindparam(f"{col.name}_{i}", type_=col.type) for col in r.c}
                    for i in range(len(rows))
                ]
            )
        )
    await tx.execute(q, **{f"{k}_{i}": v for i, row in enumerate(rows) for k, v in row.items()})


async def add_recipient(
    tx: Connection,
    *,
    company_id: int,
    message_id: int,
    position: int,
    contact_id: int | None,
    handle: str,
    name: str | None,
    role: str,
) -> None:
    await tx.execute(
        _ADD_RECIPIENT,
        company_id=company_id,
        message_id=message_id,
        position=position,
        contact_id=contact_id,
        handle=handle,
        name=name,
        role=role,
    )


# --- Drafts (appended by the drafts module) -------------------------------------------------

_DRAFTS_OF = Query(
    sa.select(t)
    .where(_cid, t.c.conversation_id == sa.bindparam("conversation_id"), t.c.is_draft == sa.true())
    .order_by(t.c.created_at, t.c.id)
)
_SET_DRAFT = Query(
    sa.update(t)
    .where(
        _cid,
        t.c.id == sa.bindparam("key"),
        t.c.is_draft == sa.true(),
        t.c.version == sa.bindparam("old_version"),
    )
    .values(
        channel_id=sa.bindparam("channel_id"),
        inbox_id=sa.bindparam("inbox_id"),
        type=sa.bindparam("type"),
        subject=sa.bindparam("subject"),
        body=sa.bindparam("body"),
        text=sa.bindparam("text"),
        blurb=sa.bindparam("blurb"),
        draft_mode=sa.bindparam("draft_mode"),
        version=sa.bindparam("new_version"),
    )
)
_DROP_RECIPIENTS = Query(
    sa.delete(r).where(
        r.c.company_id == sa.bindparam("company_id"), r.c.message_id == sa.bindparam("key")
    )
)
_DROP_DRAFT = Query(
    sa.delete(t).where(
        _cid,
        t.c.id == sa.bindparam("key"),
        t.c.is_draft == sa.true(),
        t.c.version == sa.bindparam("version"),
    )
)


async def drafts_of(conn: Reader, *, company_id: int, conversation_id: int) -> list[Message]:
    """Every draft of a conversation, oldest first."""
    rows = await conn.fetch_all(_DRAFTS_OF, company_id=company_id, conversation_id=conversation_id)
    return [Message.from_row(row) for row in rows]


async def set_draft(
    tx: Connection,
    *,
    company_id: int,
    key: int,
    old_version: str,
    new_version: str,
    channel_id: int,
    inbox_id: int,
    type: str,
    subject: str,
    body: str,
    text: str,
    blurb: str,
    draft_mode: str,
) -> bool:
    """Rewrite the draft ``key`` if its version is still ``old_version``; False if it is not."""
    changed = await tx.execute(
        _SET_DRAFT,
        company_id=company_id,
        key=key,
        old_version=old_version,
        new_version=new_version,
        channel_id=channel_id,
        inbox_id=inbox_id,
        type=type,
        subject=subject,
        body=body,
        text=text,
        blurb=blurb,
        draft_mode=draft_mode,
    )
    return bool(changed)


async def drop_recipients(tx: Connection, *, company_id: int, key: int) -> None:
    await tx.execute(_DROP_RECIPIENTS, company_id=company_id, key=key)


async def drop_draft(tx: Connection, *, company_id: int, key: int, version: str) -> bool:
    """Delete the draft ``key`` (its recipients first) if its version is still ``version``."""
    row = await tx.fetch_one(_BY_KEY, company_id=company_id, key=key)
    if row is None or row["version"] != version or not row["is_draft"]:
        return False
    await tx.execute(_DROP_RECIPIENTS, company_id=company_id, key=key)
    return bool(await tx.execute(_DROP_DRAFT, company_id=company_id, key=key, version=version))
