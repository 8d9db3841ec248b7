"""Seen receipts: an outbound message marked seen by its reader's client, and when.

Front's ``POST /messages/{id}/seen`` names no viewer (its body is an empty object), so a mark
records the single "first seen" entry Front documents for when no seen-by information is
available: the first mark sets ``first_seen_at``, later marks change nothing (and log nothing).
Only outbound messages can be seen; an inbound one (or a draft) is a 400. A mark emits the
Porch-internal event ``message_seen`` (Front has no such event type, so it stays private).
"""

from __future__ import annotations

from porch.domain.errors import BadRequest
from porch.domain.principal import Principal
from porch.events import log
from porch.store import messages as messages_store
from porch.store import seen as store
from porch.store.db import Database, IntegrityError, Reader
from porch.timeutil import now_ms


def check_seeable(message: messages_store.Message) -> None:
    if message.is_draft:
        raise BadRequest("A draft has not been sent, so it cannot be seen")
    if message.is_inbound:
        raise BadRequest("Only outbound messages can be marked as seen")


async def do_mark_seen(
    db: Database, *, principal: Principal, message: messages_store.Message
) -> None:
    """Record the first sighting of ``message`` now, unless it was seen before (the first time
    stays)."""
    check_seeable(message)
    company_id = principal.company_id
    try:
        async with db.transaction() as tx:
            found = await store.get(
                tx, company_id=company_id, message_id=message.id, handle=store.ANYONE
            )
            if found is not None:
                return
            at = now_ms()
            await store.insert(
                tx,
                company_id=company_id,
                message_id=message.id,
                handle=store.ANYONE,
                source="",
                at=at,
            )
            await log.append(
                tx,
                company_id=company_id,
                type="message_seen",
                source=log.source_of(principal),
                target_type="message",
                target_id=message.id,
                conversation_id=message.conversation_id,
                data={"message_uid": message.uid, "first_seen_at": at},
            )
    except IntegrityError:
        # A concurrent mark was first; its time is the first sighting and ours changes nothing.
        return


async def list_receipts(
    conn: Reader, *, principal: Principal, message: messages_store.Message
) -> list[store.Receipt]:
    """The seen receipts of ``message``, earliest first (none until it is marked seen)."""
    return await store.of_message(conn, company_id=principal.company_id, message_id=message.id)
