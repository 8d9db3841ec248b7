"""The outbox: one row per outbound message still to leave (or that left, or gave up).

Rows are written in the transaction that writes the message, so a message answered 202 is
delivered even if the process stops before the worker gets to it. The worker reads due rows
across companies (it acts for nobody in particular) and claims each with a conditional UPDATE.
"""

from __future__ import annotations

from typing import NamedTuple

import sqlalchemy as sa

from porch.store.db import Connection, Query, Reader, Row
from porch.store.tables import messages, outbox

t = outbox
m = messages


class OutboxRow(NamedTuple):
    """An outbox row (fields are the table's columns, in order)."""

    id: int
    company_id: int
    message_id: int
    channel_id: int
    kind: str
    state: str
    attempts: int
    next_attempt_at: int
    last_error: str | None
    created_at: int
    updated_at: int

    @classmethod
    def from_row(cls, row: Row) -> OutboxRow:
        return cls(*row)  # type: ignore[arg-type]  # a row is a sequence of the columns


assert list(OutboxRow._fields) == [col.name for col in t.c], "OutboxRow mirrors the outbox table"

_DUE = Query(
    sa.select(t)
    .where(
        t.c.state == "pending",
        t.c.kind == sa.bindparam("kind"),
        t.c.next_attempt_at <= sa.bindparam("now"),
    )
    .order_by(t.c.next_attempt_at, t.c.id)
    .limit(sa.bindparam("limit"))
)
# The claim: only the process whose UPDATE still sees the row pending at the time it read takes
# it; the new next_attempt_at is the lease, after which another process may try again.
_CLAIM = Query(
    sa.update(t)
    .where(
        t.c.id == sa.bindparam("key"),
        t.c.state == "pending",
        t.c.next_attempt_at == sa.bindparam("seen"),
    )
    .values(
        next_attempt_at=sa.bindparam("lease_until"),
        attempts=t.c.attempts + 1,
        updated_at=sa.bindparam("now"),
    )
)
_LATEST_CHANNEL = Query(
    sa.select(m.c.channel_id)
    .where(
        m.c.company_id == sa.bindparam("company_id"),
        m.c.conversation_id == sa.bindparam("conversation_id"),
        m.c.channel_id.is_not(None),
        m.c.is_draft == sa.false(),
    )
    .order_by(m.c.created_at.desc(), m.c.id.desc())
    .limit(1)
)


async def due(conn: Reader, *, kind: str, now: int, limit: int) -> list[OutboxRow]:
    """Pending rows of ``kind`` whose next attempt is due at ``now``, oldest first."""
    rows = await conn.fetch_all(_DUE, kind=kind, now=now, limit=limit)
    return [OutboxRow.from_row(r) for r in rows]


async def claim(tx: Connection, *, row: OutboxRow, now: int, lease_until: int) -> bool:
    """Take ``row`` for one attempt until ``lease_until``; False if another process took it."""
    return (
        await tx.execute(
            _CLAIM, key=row.id, seen=row.next_attempt_at, lease_until=lease_until, now=now
        )
        == 1
    )


async def latest_channel_of(conn: Reader, *, company_id: int, conversation_id: int) -> int | None:
    """The channel of the conversation's latest message that has one (drafts aside)."""
    row = await conn.fetch_one(
        _LATEST_CHANNEL, company_id=company_id, conversation_id=conversation_id
    )
    return None if row is None else int(row["channel_id"])
