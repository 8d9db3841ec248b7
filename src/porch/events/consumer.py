"""Event-log consumers: read the log in order, apply, remember how far they got.

A consumer has a ``name`` and ``apply(tx, events)``. The runner reads the events after the
consumer's stored position in batches, in id order, calls ``apply`` on the same transaction that
writes the new position, and so a consumer whose effects live in this database (the search
index) sees each event exactly once; a consumer with outside effects (webhooks) sees each at
least once and must be idempotent.

PostgreSQL hands out event ids from a sequence, and a transaction holding a smaller id can commit
after one holding a larger id. The runner therefore only advances over a contiguous run of ids:
at a gap it stops and waits for the missing event to commit. A gap still open after
``gap_seconds`` (wall clock since this runner first saw it) is taken for a rolled-back
transaction and passed over. SQLite has one writer, so ids commit in order and the same code
never waits.

Several processes may run the same consumer against one PostgreSQL: the position row is locked
(``FOR UPDATE SKIP LOCKED``) for the batch, so one process works a batch at a time and the others
skip the round. On SQLite ``BEGIN IMMEDIATE`` already serialises the transactions.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from typing import Protocol

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql as pg_dialect
from sqlalchemy.dialects import sqlite as sqlite_dialect

from porch.store.db import Connection, Database, Query, Reader, Row
from porch.store.tables import consumer_offsets, events
from porch.timeutil import now_ms

logger = logging.getLogger("porch.consumers")

BATCH = 500
GAP_SECONDS = 5.0
POLL_SECONDS = 0.2


class Consumer(Protocol):
    """Something that follows the event log."""

    @property
    def name(self) -> str: ...

    async def apply(self, tx: Connection, events: list[Row]) -> None:
        """Apply ``events`` (in id order) on ``tx``; must be idempotent."""
        ...


_o = consumer_offsets
_ENSURE = Query(
    sqlite_dialect.insert(_o)
    .values(name=sa.bindparam("name"), position=0, updated_at=sa.bindparam("now"))
    .on_conflict_do_nothing(index_elements=["name"]),
    postgresql=pg_dialect.insert(_o)
    .values(name=sa.bindparam("name"), position=0, updated_at=sa.bindparam("now"))
    .on_conflict_do_nothing(index_elements=["name"]),
)
_POSITION = Query(sa.select(_o.c.position).where(_o.c.name == sa.bindparam("name")))
_LOCK = Query(
    sa.select(_o.c.position).where(_o.c.name == sa.bindparam("name")),
    postgresql=sa.select(_o.c.position)
    .where(_o.c.name == sa.bindparam("name"))
    .with_for_update(skip_locked=True),
)
_SAVE = Query(
    sa.update(_o)
    .where(_o.c.name == sa.bindparam("name"))
    .values(position=sa.bindparam("position"), updated_at=sa.bindparam("now"))
)
_AFTER = Query(
    sa.select(events)
    .where(events.c.id > sa.bindparam("position", type_=sa.BigInteger))
    .order_by(events.c.id)
    .limit(sa.bindparam("lim"))
)
_LAST_ID = Query(sa.select(sa.func.max(events.c.id).label("id")))


async def position(conn: Reader, *, name: str) -> int:
    """The stored position of consumer ``name`` (0 before its first batch)."""
    row = await conn.fetch_one(_POSITION, name=name)
    return int(row["position"]) if row else 0


async def last_event_id(conn: Reader) -> int:
    """The largest event id committed so far (0 for an empty log)."""
    row = await conn.fetch_one(_LAST_ID)
    return int(row["id"]) if row and row["id"] is not None else 0


async def save_position(tx: Connection, *, name: str, position: int) -> None:
    """Store ``position`` for ``name`` (creating the row); call inside the applying
    transaction."""
    await tx.execute(_ENSURE, name=name, now=now_ms())
    await tx.execute(_SAVE, name=name, position=position, now=now_ms())


class Runner:
    """Moves one consumer along the log; remembers when it first saw each gap."""

    def __init__(
        self, consumer: Consumer, *, batch: int = BATCH, gap_seconds: float = GAP_SECONDS
    ) -> None:
        self.consumer = consumer
        self.batch = batch
        self.gap_seconds = gap_seconds
        # First id of a gap -> monotonic time it was first seen.
        self._gaps: dict[int, float] = {}
        self._known = -1  # the position last read, to skip empty rounds without a transaction

    async def step(self, db: Database) -> int:
        """Apply at most one batch; the number of events applied (0 when there was nothing to
        do, a gap is still young, or another process holds the batch)."""
        name = self.consumer.name
        # The newest id, not "the first id after ours": the latter is a range that a planner
        # with stale statistics (SQLite's, taken when the log was a few rows) turned into a scan
        # of the whole log on every poll; max(id) is one step down the primary key anywhere.
        if self._known >= 0 and await last_event_id(db) <= self._known:
            return 0
        async with db.transaction() as tx:
            await tx.execute(_ENSURE, name=name, now=now_ms())
            row = await tx.fetch_one(_LOCK, name=name)
            if row is None:  # another process holds the row: it does this batch
                return 0
            start = int(row["position"])
            rows = await tx.fetch_all(_AFTER, position=start, lim=self.batch)
            taken = self._contiguous(start, rows)
            end = taken[-1]["id"] if taken else start
            if taken:
                await self.consumer.apply(tx, taken)
                await tx.execute(_SAVE, name=name, position=end, now=now_ms())
        self._known = end
        self._gaps = {k: v for k, v in self._gaps.items() if k > end}
        return len(taken)

    def _contiguous(self, start: int, rows: list[Row]) -> list[Row]:
        """The leading rows that follow ``start`` without a gap, passing over gaps older
        than ``gap_seconds``."""
        taken: list[Row] = []
        expected = start + 1
        now = time.monotonic()
        for r in rows:
            if r["id"] != expected:
                first_seen = self._gaps.setdefault(expected, now)
                if now - first_seen < self.gap_seconds:
                    break
                logger.info(
                    "%s: events %d..%d never committed; moving past them",
                    self.consumer.name,
                    expected,
                    r["id"] - 1,
                )
            taken.append(r)
            expected = r["id"] + 1
        return taken


# --- Waking runners ---------------------------------------------------------------------------
#
# Runners poll every ``interval`` seconds; code that just committed events may call ``notify``
# to have every runner of this process look at once instead of at its next poll.

_waiters: set[tuple[asyncio.AbstractEventLoop, asyncio.Event]] = set()
_waiters_lock = threading.Lock()


def notify() -> None:
    """Wake every consumer runner of this process (safe from any thread or event loop)."""
    with _waiters_lock:
        waiters = list(_waiters)
    for loop, event in waiters:
        with contextlib.suppress(RuntimeError):  # the loop closed meanwhile
            loop.call_soon_threadsafe(event.set)


async def run(
    db: Database,
    consumer: Consumer,
    stop: asyncio.Event,
    *,
    interval: float = POLL_SECONDS,
    gap_seconds: float = GAP_SECONDS,
) -> None:
    """Follow the log with ``consumer`` until ``stop`` is set.

    Full batches follow each other at once; otherwise the runner waits ``interval`` seconds or
    until ``notify``. An error is logged and retried at the next round: the position only moves
    when a batch committed.
    """
    runner = Runner(consumer, gap_seconds=gap_seconds)
    wake = asyncio.Event()
    me = (asyncio.get_running_loop(), wake)
    with _waiters_lock:
        _waiters.add(me)
    try:
        while not stop.is_set():
            moved = 0
            try:
                moved = await runner.step(db)
            except Exception:
                logger.exception("consumer %s failed; retrying", consumer.name)
            if moved >= runner.batch:
                continue
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(wake.wait(), timeout=interval)
            wake.clear()
    finally:
        with _waiters_lock:
            _waiters.discard(me)
