"""How far each IMAP mailbox is imported, which channels import one, and who imports them.

A position is a mailbox's UIDVALIDITY and the highest UID queued into the intake. It moves
only forward and only by compare-and-set (``claim``), in the transaction that queues the
message: two importers of the same mailbox (a process that lost its lease without noticing,
say) can never both queue one UID, and a crash leaves the position exactly at the last message
queued.

Leases keep the importing to one process per channel: on PostgreSQL a session advisory lock per
channel, held on a connection of its own (it is released when that connection ends, so a
process that dies frees its channels); SQLite is served by one process, which always holds them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

import orjson
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql as pg
from sqlalchemy.dialects import sqlite as sq

from porch.store.db import Connection, Query, Reader, pg_dsn
from porch.store.tables import channels, imap_states

t = imap_states


@dataclass(frozen=True, slots=True)
class Position:
    mailbox: str
    uidvalidity: int
    last_uid: int
    updated_at: int


@dataclass(frozen=True, slots=True)
class Configured:
    """A channel with an IMAP configuration (``settings["imap"]``, as stored)."""

    channel_id: int
    company_id: int
    imap: dict[str, Any]


_key = (t.c.channel_id == sa.bindparam("channel_id"), t.c.company_id == sa.bindparam("company_id"))
_one = (*_key, t.c.mailbox == sa.bindparam("mailbox"))
_ALL = Query(sa.select(t).where(*_key).order_by(t.c.mailbox))
_GET = Query(sa.select(t).where(*_one))
_VALUES: dict[str, Any] = {
    "channel_id": sa.bindparam("channel_id"),
    "company_id": sa.bindparam("company_id"),
    "mailbox": sa.bindparam("mailbox"),
    "uidvalidity": sa.bindparam("uidvalidity"),
    "last_uid": sa.literal(0),
    "updated_at": sa.bindparam("now"),
}
_START = Query(
    sq.insert(t).values(**_VALUES).on_conflict_do_nothing(),
    postgresql=pg.insert(t).values(**_VALUES).on_conflict_do_nothing(),
)
# The compare-and-set: the position moves to ``uid`` only from below it, under the same
# UIDVALIDITY. On PostgreSQL a second writer waits for the first's row lock and then finds the
# condition false; on SQLite writers are serialised.
_CLAIM = Query(
    sa.update(t)
    .where(
        *_one,
        t.c.uidvalidity == sa.bindparam("uidvalidity"),
        t.c.last_uid < sa.bindparam("uid"),
    )
    .values(last_uid=sa.bindparam("uid"), updated_at=sa.bindparam("now"))
)
_RESET = Query(
    sa.update(t)
    .where(*_one, t.c.uidvalidity == sa.bindparam("old"))
    .values(uidvalidity=sa.bindparam("new"), last_uid=0, updated_at=sa.bindparam("now"))
)
_FORGET = Query(sa.delete(t).where(*_key))
# Channels with an "imap" key in their settings: the LIKE finds the candidates without parsing
# every channel's JSON; the caller parses these.
_CONFIGURED = Query(
    sa.select(channels.c.id, channels.c.company_id, channels.c.settings)
    .where(channels.c.type == "smtp", channels.c.settings.like('%"imap":%'))
    .order_by(channels.c.id)
)


def _position(row: Any) -> Position:
    return Position(row["mailbox"], row["uidvalidity"], row["last_uid"], row["updated_at"])


async def positions(conn: Reader, *, company_id: int, channel_id: int) -> list[Position]:
    """The channel's mailboxes' positions, by mailbox name."""
    rows = await conn.fetch_all(_ALL, company_id=company_id, channel_id=channel_id)
    return [_position(r) for r in rows]


async def get(conn: Reader, *, company_id: int, channel_id: int, mailbox: str) -> Position | None:
    row = await conn.fetch_one(_GET, company_id=company_id, channel_id=channel_id, mailbox=mailbox)
    return _position(row) if row else None


async def start(
    tx: Connection, *, company_id: int, channel_id: int, mailbox: str, uidvalidity: int, now: int
) -> None:
    """Record a mailbox seen for the first time at position 0 (nothing if it has one)."""
    await tx.execute(
        _START,
        company_id=company_id,
        channel_id=channel_id,
        mailbox=mailbox,
        uidvalidity=uidvalidity,
        now=now,
    )


async def claim(
    tx: Connection,
    *,
    company_id: int,
    channel_id: int,
    mailbox: str,
    uidvalidity: int,
    uid: int,
    now: int,
) -> bool:
    """Move the position to ``uid`` if it is below it under ``uidvalidity``; whether it moved
    (False: someone else queued this UID, or the mailbox was reset meanwhile)."""
    changed = await tx.execute(
        _CLAIM,
        company_id=company_id,
        channel_id=channel_id,
        mailbox=mailbox,
        uidvalidity=uidvalidity,
        uid=uid,
        now=now,
    )
    return changed == 1


async def reset(
    tx: Connection,
    *,
    company_id: int,
    channel_id: int,
    mailbox: str,
    old: int,
    new: int,
    now: int,
) -> bool:
    """Start a mailbox over at UID 0 under a new UIDVALIDITY; whether it was still at ``old``."""
    changed = await tx.execute(
        _RESET,
        company_id=company_id,
        channel_id=channel_id,
        mailbox=mailbox,
        old=old,
        new=new,
        now=now,
    )
    return changed == 1


async def forget(tx: Connection, *, company_id: int, channel_id: int) -> None:
    """Drop every position of the channel (another account: its UIDs mean nothing here)."""
    await tx.execute(_FORGET, company_id=company_id, channel_id=channel_id)


async def configured(conn: Reader) -> list[Configured]:
    """Every channel, of any company, that imports an IMAP mailbox."""
    found = []
    for row in await conn.fetch_all(_CONFIGURED):
        imap = orjson.loads(row["settings"]).get("imap")
        if isinstance(imap, dict):
            found.append(Configured(row["id"], row["company_id"], imap))
    return found


# --- Leases -------------------------------------------------------------------------------


class Leases(Protocol):
    """Which channels this process imports; at most one process holds a channel's lease."""

    async def take(self, channel_id: int) -> bool:
        """Take the channel's lease if no process holds it; whether this process holds it."""
        ...

    async def release(self, channel_id: int) -> None: ...

    async def alive(self) -> bool:
        """Whether the leases taken are still held (False: they are lost, stop importing)."""
        ...

    async def close(self) -> None: ...


class LocalLeases:
    """SQLite: one process serves the database, so it holds every lease."""

    async def take(self, channel_id: int) -> bool:
        return True

    async def release(self, channel_id: int) -> None:
        return None

    async def alive(self) -> bool:
        return True

    async def close(self) -> None:
        return None


# The advisory lock keys of channels: this prefix (ASCII "IMAP") in the high 32 bits keeps them
# apart from the migrations' lock and any other Porch takes.
_LOCK_SPACE = 0x494D4150 << 32


class PgLeases:
    """PostgreSQL: a session advisory lock per channel on a dedicated connection."""

    def __init__(self, conn: Any) -> None:
        self._conn = conn

    @classmethod
    async def open(cls, url: str) -> PgLeases:
        import asyncpg

        return cls(await asyncpg.connect(pg_dsn(url)))

    async def take(self, channel_id: int) -> bool:
        taken: bool = await self._conn.fetchval(
            "SELECT pg_try_advisory_lock($1)", _LOCK_SPACE + channel_id
        )
        return taken

    async def release(self, channel_id: int) -> None:
        await self._conn.fetchval("SELECT pg_advisory_unlock($1)", _LOCK_SPACE + channel_id)

    async def alive(self) -> bool:
        if self._conn.is_closed():
            return False
        try:
            # Bounded: a connection whose server vanished may not even fail quickly.
            await self._conn.fetchval("SELECT 1", timeout=10)
        except Exception:
            return False
        return True

    async def close(self) -> None:
        if self._conn.is_closed():
            return
        try:
            await self._conn.close(timeout=5)
        except Exception:
            self._conn.terminate()


async def open_leases(url: str) -> Leases:
    """The leases of the database at ``url``."""
    if url.startswith("sqlite"):
        return LocalLeases()
    return await PgLeases.open(url)
