"""Seen receipts of messages: who saw a message first, and when.

One row per (message, handle); the handle is "" for the single "first seen" entry of a viewer
nobody named. A repeat insert keeps the first row: the time it holds is the first sighting.
"""

from __future__ import annotations

from typing import NamedTuple

import sqlalchemy as sa

from porch.store.db import Connection, Query, Reader, Row
from porch.store.tables import message_seen

t = message_seen

# The handle of a receipt that names no viewer.
ANYONE = ""


class Receipt(NamedTuple):
    """A seen receipt row (fields are the table's columns, in order)."""

    company_id: int
    message_id: int
    handle: str
    source: str
    first_seen_at: int

    @classmethod
    def from_row(cls, r: Row) -> Receipt:
        return cls(*r)  # type: ignore[arg-type]  # a row is a sequence of the columns


assert list(Receipt._fields) == [c.name for c in t.c], "Receipt mirrors its table"

_cid = t.c.company_id == sa.bindparam("company_id")
_OF_MESSAGE = Query(
    sa.select(t)
    .where(_cid, t.c.message_id == sa.bindparam("message_id"))
    .order_by(t.c.first_seen_at, t.c.handle)
)
_ONE = Query(
    sa.select(t).where(
        _cid, t.c.message_id == sa.bindparam("message_id"), t.c.handle == sa.bindparam("handle")
    )
)
_INSERT = Query(
    sa.insert(t).values({col.name: sa.bindparam(col.name, type_=col.type) for col in t.c})
)


async def of_message(conn: Reader, *, company_id: int, message_id: int) -> list[Receipt]:
    """The receipts of a message, earliest first."""
    rows = await conn.fetch_all(_OF_MESSAGE, company_id=company_id, message_id=message_id)
    return [Receipt.from_row(r) for r in rows]


async def get(conn: Reader, *, company_id: int, message_id: int, handle: str) -> Receipt | None:
    row = await conn.fetch_one(_ONE, company_id=company_id, message_id=message_id, handle=handle)
    return Receipt.from_row(row) if row else None


async def insert(
    tx: Connection, *, company_id: int, message_id: int, handle: str, source: str, at: int
) -> None:
    """Write a receipt; the caller has checked in the same transaction that there is none."""
    await tx.execute(
        _INSERT,
        company_id=company_id,
        message_id=message_id,
        handle=handle,
        source=source,
        first_seen_at=at,
    )
