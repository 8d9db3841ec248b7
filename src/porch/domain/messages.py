"""Messages: reading them back.

The writing every way of making one shares is ``domain/message_writes.py`` (a body's text from
``domain/message_text.py``, its people's contacts from ``domain/message_contacts.py``).
Receiving and importing live in ``domain/incoming.py``, sending in ``domain/outbound.py``, seen
receipts in ``domain/seen.py``. A message is visible exactly when its conversation is. Its
people are recipients (``from``, ``to``, ``cc``, ``bcc``) holding a handle; each handle of the
outside world resolves to one contact per company (created the first time the handle is seen;
handles compare in the canonical form of ``domain/contacts.py``: email lower-cased, phone
E.164). Both inbound paths write the message before answering, so the ``message_uid`` they
answer is readable at once.

Every message emits ``inbound``, ``outbound`` (a new conversation) or ``out_reply``. Its files
are attachments owned by the message (``owner_type`` message; a draft's are owned as draft).
"""

from __future__ import annotations

from dataclasses import dataclass

from porch import ids
from porch.domain import refs
from porch.domain.errors import not_found
from porch.domain.principal import Principal
from porch.store import attachments as attachments_store
from porch.store import conversations as conversations_store
from porch.store import messages as store
from porch.store import teammates as teammates_store
from porch.store.attachments import Attachment
from porch.store.conversations import Conversation
from porch.store.db import Reader, Row
from porch.store.teammates import Teammate


@dataclass(frozen=True, slots=True)
class MessageView:
    """A message with its recipients (sender first), its author and its files, as its shape
    shows them."""

    message: store.Message
    recipients: list[Row]
    author: Teammate | None
    attachments: tuple[Attachment, ...] = ()


async def access_message(conn: Reader, *, principal: Principal, ref: str) -> store.Message:
    """The message ``ref`` (``msg_...`` or ``alt:uid:<message_uid>``) names if the token sees
    its conversation; NotFound otherwise (also for a uid not yet received)."""
    uid = refs.alias(ref, "uid")
    found = None
    if uid is not None:
        found = await store.by_uid(conn, company_id=principal.company_id, uid=uid)
    else:
        key = ids.decode(ids.MESSAGE, ref)
        if key is not None:
            found = await store.get(conn, company_id=principal.company_id, key=key)
    if found is not None:
        conv = await conversations_store.get_visible(
            conn,
            company_id=principal.company_id,
            key=found.conversation_id,
            vis=principal.visibility(),
        )
        if conv is None:
            found = None
    if found is not None and found.is_draft:
        # A private draft is its author's: the drafts module decides who else sees it.
        from porch.domain.drafts import sees_draft

        if not sees_draft(principal, found):
            found = None
    if found is None:
        raise not_found("message", ref)
    return found


async def views(
    conn: Reader, *, principal: Principal, msgs: list[store.Message]
) -> list[MessageView]:
    """Each message with its recipients, author and attachments, in a few queries."""
    company_id = principal.company_id
    recipients = await store.recipients_of(conn, company_id=company_id, keys=[m.id for m in msgs])
    author_keys = sorted({m.author_id for m in msgs if m.author_id is not None})
    authors = {
        t.id: t for t in await teammates_store.many(conn, company_id=company_id, keys=author_keys)
    }
    files = await files_of(conn, company_id=company_id, msgs=msgs)
    return [
        MessageView(
            m,
            recipients.get(m.id, []),
            authors.get(m.author_id) if m.author_id else None,
            tuple(files.get(m.id, ())),
        )
        for m in msgs
    ]


def owner_type(msg: store.Message) -> str:
    """Who owns a message's attachments: the message, or (while it is one) the draft."""
    return attachments_store.DRAFT if msg.is_draft else attachments_store.MESSAGE


async def files_of(
    conn: Reader, *, company_id: int, msgs: list[store.Message]
) -> dict[int, list[Attachment]]:
    """The attachments of each message (drafts included), in upload order."""
    out: dict[int, list[Attachment]] = {}
    for kind in (attachments_store.MESSAGE, attachments_store.DRAFT):
        keys = [m.id for m in msgs if owner_type(m) == kind]
        out.update(
            await attachments_store.of_owners(
                conn, company_id=company_id, owner_type=kind, keys=keys
            )
        )
    return out


async def list_messages(
    conn: Reader,
    *,
    principal: Principal,
    conversation: Conversation,
    after: tuple[int, int] | None,
    limit: int,
    descending: bool,
) -> tuple[list[MessageView], tuple[int, int] | None]:
    """A page of a conversation's messages by (created_at, id), and the key of the next."""
    rows = await store.page(
        conn,
        company_id=principal.company_id,
        conversation_id=conversation.id,
        after=after,
        limit=limit + 1,
        descending=descending,
    )
    nxt = None
    if len(rows) > limit:
        rows = rows[:limit]
        nxt = (rows[-1].created_at, rows[-1].id)
    return await views(conn, principal=principal, msgs=rows), nxt
