"""The intake: messages accepted from outside and not yet written into a conversation.

A row is committed before its sender is answered (202); the worker that writes the message
deletes the row in the same transaction. Rows are read across companies (the worker acts for
nobody in particular), oldest first. On PostgreSQL the worker's read locks the rows it takes and
skips rows another process holds, so several processes share the work without doing any of it
twice; SQLite has one writer at a time anyway.
"""

from __future__ import annotations

from typing import NamedTuple

import sqlalchemy as sa

from porch.store.db import Connection, Query, Reader, Row, in_list
from porch.store.tables import intake

t = intake


class IntakeRow(NamedTuple):
    """An intake row (fields are the table's columns, in order)."""

    id: int
    company_id: int
    channel_id: int
    kind: str
    uid: str
    source_type: str
    source_id: int | None
    payload: str
    received_at: int
    failed_at: int | None
    error: str | None

    @classmethod
    def from_row(cls, row: Row) -> IntakeRow:
        return cls(*row)  # type: ignore[arg-type]  # a row is a sequence of the columns


assert list(IntakeRow._fields) == [col.name for col in t.c], "IntakeRow mirrors the intake table"

_ADD = Query(
    sa.insert(t).values(
        company_id=sa.bindparam("company_id"),
        channel_id=sa.bindparam("channel_id"),
        kind=sa.bindparam("kind"),
        uid=sa.bindparam("uid"),
        source_type=sa.bindparam("source_type"),
        source_id=sa.bindparam("source_id"),
        payload=sa.bindparam("payload"),
        received_at=sa.bindparam("received_at"),
    )
)
_pending = sa.select(t).where(t.c.failed_at.is_(None)).order_by(t.c.id).limit(sa.bindparam("lim"))
_TAKE = Query(_pending, postgresql=_pending.with_for_update(skip_locked=True))
_ANY = Query(sa.select(t.c.id).where(t.c.failed_at.is_(None)).limit(1))
_DONE = Query(sa.delete(t).where(in_list(t.c.id, "keys")))
_FAIL = Query(
    sa.update(t)
    .where(t.c.id == sa.bindparam("key"))
    .values(failed_at=sa.bindparam("now"), error=sa.bindparam("error"))
)
_RETRY = Query(
    sa.update(t)
    .where(t.c.company_id == sa.bindparam("company_id"), t.c.failed_at.is_not(None))
    .values(failed_at=sa.null(), error=sa.null())
)
_FAILED = Query(
    sa.select(t)
    .where(t.c.company_id == sa.bindparam("company_id"), t.c.failed_at.is_not(None))
    .order_by(t.c.id)
    .limit(sa.bindparam("lim"))
)
_COUNTS = Query(
    sa.select(
        sa.func.count().filter(t.c.failed_at.is_(None)).label("pending"),
        sa.func.count().filter(t.c.failed_at.is_not(None)).label("failed"),
    ).where(t.c.company_id == sa.bindparam("company_id"))
)


async def add(
    tx: Connection,
    *,
    company_id: int,
    channel_id: int,
    kind: str,
    uid: str,
    source_type: str,
    source_id: int | None,
    payload: str,
    received_at: int,
) -> None:
    await tx.execute(
        _ADD,
        company_id=company_id,
        channel_id=channel_id,
        kind=kind,
        uid=uid,
        source_type=source_type,
        source_id=source_id,
        payload=payload,
        received_at=received_at,
    )


async def any_pending(conn: Reader) -> bool:
    """Whether any company has a pending row (one index probe)."""
    return await conn.fetch_one(_ANY) is not None


async def take(tx: Connection, *, limit: int) -> list[IntakeRow]:
    """Up to ``limit`` pending rows of any company, oldest first, held by this transaction
    (PostgreSQL: rows another transaction holds are skipped)."""
    return [IntakeRow.from_row(r) for r in await tx.fetch_all(_TAKE, lim=limit)]


async def done(tx: Connection, *, keys: list[int]) -> None:
    """These rows' messages are written: the rows go."""
    if keys:
        await tx.execute(_DONE, keys=keys)


async def fail(tx: Connection, *, key: int, error: str, now: int) -> None:
    """The row could not be written: it stays, with the error, and is not taken again."""
    await tx.execute(_FAIL, key=key, error=error, now=now)


async def retry_failed(tx: Connection, *, company_id: int) -> int:
    """Make the company's failed rows pending again; how many."""
    return await tx.execute(_RETRY, company_id=company_id)


async def failed(conn: Reader, *, company_id: int, limit: int) -> list[IntakeRow]:
    """The company's first ``limit`` failed rows, oldest first."""
    rows = await conn.fetch_all(_FAILED, company_id=company_id, lim=limit)
    return [IntakeRow.from_row(r) for r in rows]


async def counts(conn: Reader, *, company_id: int) -> tuple[int, int]:
    """How many of the company's rows are pending and how many failed."""
    row = await conn.fetch_one(_COUNTS, company_id=company_id)
    return (int(row["pending"]), int(row["failed"])) if row else (0, 0)
