"""The writes of a conversation merge: moving rows from one conversation to another."""

from __future__ import annotations

import sqlalchemy as sa

from porch.store import crud
from porch.store.crud import Join
from porch.store.db import Connection, Query, Reader
from porch.store.tables import comments, conversations, messages, reminders


def _mover(table: sa.Table) -> Query:
    return Query(
        sa.update(table)
        .where(
            table.c.company_id == sa.bindparam("company_id"),
            table.c.conversation_id == sa.bindparam("source"),
        )
        .values(conversation_id=sa.bindparam("target"))
    )


# What belongs to a conversation by its conversation_id column moves to the survivor.
_MOVERS = (_mover(comments), _mover(messages))
_REPOINT = Query(
    sa.update(conversations)
    .where(
        conversations.c.company_id == sa.bindparam("company_id"),
        conversations.c.merged_into_id == sa.bindparam("source"),
    )
    .values(merged_into_id=sa.bindparam("target"))
)
_REMINDERS = Query(
    sa.select(reminders.c.id, reminders.c.teammate_id).where(
        reminders.c.company_id == sa.bindparam("company_id"),
        reminders.c.conversation_id == sa.bindparam("c"),
    )
)
_RIGHTS: dict[str, Query] = {}


async def right_ids(conn: Reader, join: Join, *, company_id: int, left_id: int) -> list[int]:
    """The right-hand keys joined to ``left_id`` (a conversation's tags, followers ...)."""
    q = _RIGHTS.get(join.table.name)
    if q is None:
        table = join.table
        q = _RIGHTS[table.name] = Query(
            sa.select(table.c[join.right])
            .where(
                table.c.company_id == sa.bindparam("company_id"),
                table.c[join.left] == sa.bindparam("l"),
            )
            .order_by(table.c[join.right])
        )
    return [r[join.right] for r in await conn.fetch_all(q, company_id=company_id, l=left_id)]


async def copy_join(
    tx: Connection, join: Join, *, company_id: int, source: int, target: int, move: bool
) -> None:
    """Join ``target`` to what ``source`` is joined to (no duplicates); ``move`` also drops the
    source's rows."""
    rights = await right_ids(tx, join, company_id=company_id, left_id=source)
    if not rights:
        return
    await crud.link(tx, join, company_id=company_id, left_id=target, right_ids=rights)
    if move:
        await crud.delete_where(tx, join.table, company_id=company_id, **{join.left: source})


async def move_contents(tx: Connection, *, company_id: int, source: int, target: int) -> None:
    """Move the source's comments and messages to the survivor."""
    for q in _MOVERS:
        await tx.execute(q, company_id=company_id, source=source, target=target)


async def repoint_merged(tx: Connection, *, company_id: int, source: int, target: int) -> None:
    """Conversations merged into ``source`` earlier now point straight at ``target``."""
    await tx.execute(_REPOINT, company_id=company_id, source=source, target=target)


async def move_reminders(tx: Connection, *, company_id: int, source: int, target: int) -> None:
    """Move the source's reminders; where the target has one for the same teammate, the
    target's is kept and the source's dropped (one reminder per teammate and conversation)."""
    taken = {
        r["teammate_id"] for r in await tx.fetch_all(_REMINDERS, company_id=company_id, c=target)
    }
    for r in await tx.fetch_all(_REMINDERS, company_id=company_id, c=source):
        if r["teammate_id"] in taken:
            await crud.delete(tx, reminders, company_id=company_id, key=r["id"])
        else:
            await crud.update(
                tx, reminders, company_id=company_id, key=r["id"], conversation_id=target
            )
