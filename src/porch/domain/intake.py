"""Writing what the intake holds: accepted messages become messages in their conversations.

``do_process_intake`` takes a batch of pending rows in one transaction, writes each message in
a savepoint of it, and deletes the rows written in the same transaction: a message is written
exactly once, however often a process stops halfway. A row whose message cannot be written
(its channel is gone, or a bug) is marked failed with the error and keeps its payload; the rest
of the batch goes on. A batch shares one commit (one fsync on SQLite) and reads each channel once.
"""

from __future__ import annotations

import logging

import orjson

from porch.domain import email_in, incoming
from porch.domain.channel_api.partner import KIND as CHANNEL_API_KIND
from porch.domain.channel_api.receive import receive as receive_channel_api
from porch.domain.message_contacts import KnownContacts
from porch.events import log
from porch.storage import BlobStore
from porch.store import channels as channels_store
from porch.store import inboxes as inboxes_store
from porch.store import intake as store
from porch.store.channels import Channel
from porch.store.db import Connection, Database
from porch.store.inboxes import Inbox
from porch.store.intake import IntakeRow
from porch.timeutil import now_ms

logger = logging.getLogger("porch.intake")

BATCH = 50


class Unprocessable(Exception):
    """An intake row that cannot become a message (kept, marked failed)."""


async def _place(
    tx: Connection, row: IntakeRow, places: dict[tuple[int, int], tuple[Channel, Inbox]]
) -> tuple[Channel, Inbox]:
    key = (row.company_id, row.channel_id)
    found = places.get(key)
    if found is None:
        channel = await channels_store.get(tx, company_id=row.company_id, key=row.channel_id)
        inbox = None
        if channel is not None:
            inbox = await inboxes_store.get(tx, company_id=row.company_id, key=channel.inbox_id)
        if channel is None or inbox is None:
            raise Unprocessable("the channel no longer exists")
        found = places[key] = (channel, inbox)
    return found


async def _write(
    tx: Connection,
    row: IntakeRow,
    places: dict[tuple[int, int], tuple[Channel, Inbox]],
    known: KnownContacts,
    blobs: BlobStore,
) -> None:
    if row.kind not in (incoming.KIND, email_in.KIND, CHANNEL_API_KIND):
        raise Unprocessable(f"unknown intake kind {row.kind!r}")
    channel, inbox = await _place(tx, row, places)
    if row.kind == CHANNEL_API_KIND:
        await receive_channel_api(
            tx,
            company_id=row.company_id,
            source=log.Source(row.source_type, row.source_id),
            channel=channel,
            inbox=inbox,
            uid=row.uid,
            payload=orjson.loads(row.payload),
            known=known,
        )
        return
    if row.kind == email_in.KIND:
        try:
            await email_in.receive_email(
                tx,
                blobs=blobs,
                company_id=row.company_id,
                source=log.Source(row.source_type, row.source_id),
                channel=channel,
                inbox=inbox,
                uid=row.uid,
                payload=email_in.EmailPayload(**orjson.loads(row.payload)),
                known=known,
            )
        except email_in.Unreadable as exc:
            raise Unprocessable(str(exc)) from exc
        return
    await incoming.receive_custom(
        tx,
        company_id=row.company_id,
        source=log.Source(row.source_type, row.source_id),
        channel=channel,
        inbox=inbox,
        uid=row.uid,
        payload=incoming.CustomPayload(**orjson.loads(row.payload)),
        known=known,
    )


async def do_process_intake(db: Database, *, blobs: BlobStore, limit: int = BATCH) -> int:
    """Write up to ``limit`` pending intake rows as messages, oldest first; the number of rows
    taken (written or marked failed)."""
    # Looked for first outside a transaction: an idle poll must not be a write (on SQLite every
    # commit makes readers drop their page cache, which a search then pays for).
    if not await store.any_pending(db):
        return 0
    async with db.transaction() as tx:
        rows = await store.take(tx, limit=limit)
        places: dict[tuple[int, int], tuple[Channel, Inbox]] = {}
        known: KnownContacts = {}
        written: list[int] = []
        for row in rows:
            try:
                async with tx.savepoint():
                    await _write(tx, row, places, known, blobs)
                written.append(row.id)
            except Exception as exc:
                # Contacts it created are undone with it.
                known.clear()
                # The savepoint undid the row's writes; the row stays with the reason. If the
                # transaction itself is broken, this fails too and the whole batch is retried.
                if isinstance(exc, Unprocessable):
                    logger.warning("intake row %s (uid %s): %s", row.id, row.uid, exc)
                else:
                    logger.exception("intake row %s (uid %s) failed", row.id, row.uid)
                await store.fail(tx, key=row.id, error=repr(exc)[:1000], now=now_ms())
        await store.done(tx, keys=written)
    return len(rows)


async def do_retry_intake(db: Database, *, company_id: int) -> int:
    """Make the company's failed intake rows pending again (the worker writes them at its next
    round); how many. Logged as the Porch event ``intake_retried``."""
    async with db.transaction() as tx:
        count = await store.retry_failed(tx, company_id=company_id)
        if count:
            await log.append(
                tx,
                company_id=company_id,
                type="intake_retried",
                source=log.SYSTEM,
                data={"count": count},
            )
    return count
