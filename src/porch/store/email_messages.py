"""What an email message carries beyond its message row: its Message-ID and its raw bytes.

One row per email message received or sent. ``rfc_id`` is the Message-ID without its angle
brackets, as written: a reply names it in In-Reply-To or References, so it is looked up by
company. ``raw_sha256`` and ``raw_size`` name the exact bytes as received or as handed to the
relay, kept in the blob store and served as ``message/rfc822``.
"""

from __future__ import annotations

from typing import NamedTuple

import sqlalchemy as sa

from porch.store.db import Connection, Query, Reader, Row, in_list
from porch.store.tables import email_messages, messages

t = email_messages
m = messages


class EmailRow(NamedTuple):
    """An email_messages row (fields are the table's columns, in order)."""

    message_id: int
    company_id: int
    rfc_id: str | None
    raw_sha256: str | None
    raw_size: int | None

    @classmethod
    def from_row(cls, row: Row) -> EmailRow:
        return cls(*row)  # type: ignore[arg-type]  # a row is a sequence of the columns


assert list(EmailRow._fields) == [c.name for c in t.c], "EmailRow mirrors the email_messages table"


class Known(NamedTuple):
    """A message found by its Message-ID: its key, its conversation and the Message-ID."""

    message_id: int
    conversation_id: int
    rfc_id: str


_cid = t.c.company_id == sa.bindparam("company_id")
_ADD = Query(sa.insert(t).values({col.name: sa.bindparam(col.name, type_=col.type) for col in t.c}))
_GET = Query(sa.select(t).where(_cid, t.c.message_id == sa.bindparam("message_id")))
_at = sa.bindparam("at", type_=sa.BigInteger)
_key = sa.bindparam("key", type_=sa.BigInteger)
# A conversation's Message-IDs in message order, from the messages before (at, key): driven by
# the index on messages (conversation_id, created_at), each probing email_messages by key.
_OF_CONVERSATION = Query(
    sa.select(m.c.id, t.c.rfc_id)
    .join(t, t.c.message_id == m.c.id)
    .where(
        m.c.company_id == sa.bindparam("company_id"),
        m.c.conversation_id == sa.bindparam("conversation_id"),
        m.c.is_draft == sa.false(),
        sa.or_(m.c.created_at < _at, sa.and_(m.c.created_at == _at, m.c.id < _key)),
        t.c.rfc_id.is_not(None),
    )
    .order_by(m.c.created_at, m.c.id)
)
_WITH_RFC_IDS = Query(
    sa.select(m.c.id, m.c.conversation_id, t.c.rfc_id)
    .select_from(t)
    .join(m, m.c.id == t.c.message_id)
    .where(_cid, in_list(t.c.rfc_id, "rfc_ids"), m.c.is_draft == sa.false())
    .order_by(m.c.created_at, m.c.id)
)
_DUPLICATE = Query(
    sa.select(m.c.id)
    .select_from(t)
    .join(m, m.c.id == t.c.message_id)
    .where(
        _cid,
        t.c.rfc_id == sa.bindparam("rfc_id"),
        m.c.inbox_id == sa.bindparam("inbox_id"),
        m.c.is_draft == sa.false(),
    )
    .limit(1)
)


async def add(
    tx: Connection,
    *,
    company_id: int,
    message_id: int,
    rfc_id: str | None,
    raw_sha256: str | None,
    raw_size: int | None,
) -> None:
    """Write the email row of ``message_id`` (one per message)."""
    await tx.execute(
        _ADD,
        message_id=message_id,
        company_id=company_id,
        rfc_id=rfc_id,
        raw_sha256=raw_sha256,
        raw_size=raw_size,
    )


async def get(conn: Reader, *, company_id: int, message_id: int) -> EmailRow | None:
    row = await conn.fetch_one(_GET, company_id=company_id, message_id=message_id)
    return EmailRow.from_row(row) if row else None


async def rfc_ids_of_conversation(
    conn: Reader,
    *,
    company_id: int,
    conversation_id: int,
    before: tuple[int, int] | None = None,
) -> list[tuple[int, str]]:
    """(message key, Message-ID) of the conversation's messages that have one, in message
    order; only those before the message (created_at, key) ``before`` when it is given."""
    at, key = before if before is not None else (2**62, 2**62)
    rows = await conn.fetch_all(
        _OF_CONVERSATION,
        company_id=company_id,
        conversation_id=conversation_id,
        at=at,
        key=key,
    )
    return [(int(r["id"]), str(r["rfc_id"])) for r in rows]


async def messages_with_rfc_ids(
    conn: Reader, *, company_id: int, rfc_ids: list[str]
) -> list[Known]:
    """The company's messages whose Message-ID is one of ``rfc_ids`` (as written, without
    angle brackets), oldest first."""
    if not rfc_ids:
        return []
    rows = await conn.fetch_all(_WITH_RFC_IDS, company_id=company_id, rfc_ids=list(rfc_ids))
    return [Known(int(r["id"]), int(r["conversation_id"]), str(r["rfc_id"])) for r in rows]


async def duplicate_of(conn: Reader, *, company_id: int, inbox_id: int, rfc_id: str) -> int | None:
    """The key of a message of the inbox that has the Message-ID ``rfc_id`` already (the same
    mail arriving twice: by SMTP and IMAP, or our own sent copy read back), else None."""
    row = await conn.fetch_one(_DUPLICATE, company_id=company_id, inbox_id=inbox_id, rfc_id=rfc_id)
    return int(row["id"]) if row else None
