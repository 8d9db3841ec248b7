"""Messages: reading them back, and the writing every way of making one shares.

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

import html
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from html.parser import HTMLParser
from typing import Any

import orjson

from porch import ids
from porch.domain import refs
from porch.domain.contacts import canonical_handle
from porch.domain.errors import BadRequest, not_found
from porch.domain.principal import Principal
from porch.events import log
from porch.store import attachments as attachments_store
from porch.store import contacts as contacts_store
from porch.store import conversations as conversations_store
from porch.store import crud, joins
from porch.store import messages as store
from porch.store import statuses as statuses_store
from porch.store import teammates as teammates_store
from porch.store.attachments import Attachment, StoredFile
from porch.store.conversations import Conversation
from porch.store.db import Connection, Reader, Row
from porch.store.inboxes import Inbox
from porch.store.tables import (
    contacts,
    conversations,
    messages,
)
from porch.store.teammates import Teammate
from porch.timeutil import now_ms

BLURB_LENGTH = 150


@dataclass(frozen=True, slots=True)
class MessageView:
    """A message with its recipients (sender first), its author and its files, as its shape
    shows them."""

    message: store.Message
    recipients: list[Row]
    author: Teammate | None
    attachments: tuple[Attachment, ...] = ()


@dataclass(frozen=True, slots=True)
class Person:
    """A handle a message names, with the display name that came with it."""

    handle: str
    name: str | None = None


# --- Reading --------------------------------------------------------------------------------


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


# --- Bodies and handles -------------------------------------------------------------------


class _Text(HTMLParser):
    """The text of an HTML body: tags dropped, entities decoded, scripts and styles skipped."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style"):
            self._skip += 1
        elif tag in ("br", "p", "div", "li", "tr"):
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style") and self._skip:
            self._skip -= 1

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


def plain_text(body: str, body_format: str) -> str:
    """The plain text of a body received as ``html`` or ``markdown`` (kept as written)."""
    if body_format != "html":
        return body
    parser = _Text()
    parser.feed(body)
    parser.close()
    return html.unescape("".join(parser.parts)).strip()


def blurb(text: str) -> str:
    """The start of the text on one line, as message lists show it."""
    return " ".join(text.split())[:BLURB_LENGTH]


def normalise_handle(source: str, handle: str) -> str:
    """The stored form of a handle: trimmed, and lower-cased for email addresses."""
    handle = handle.strip()
    return handle.lower() if source == "email" else handle


def check_handle(handle: str) -> None:
    if not handle.strip():
        raise BadRequest("A handle must not be empty")


def check_body(body: str) -> None:
    if not body.strip():
        raise BadRequest("A message needs a body")


# Contacts a transaction has resolved already, by (source, stored handle): a batch of messages
# to one address looks it up once. Valid only while everything the transaction wrote stands.
KnownContacts = dict[tuple[str, str], int]


async def resolve_contact(
    tx: Connection,
    *,
    company_id: int,
    source: str,
    handle: str,
    name: str | None,
    known: KnownContacts | None = None,
) -> int:
    """The key of the contact holding ``(source, handle)``, created (named ``name``) the first
    time the handle is seen."""
    key, _ = await find_or_create_contact(
        tx, company_id=company_id, source=source, handle=handle, name=name, known=known
    )
    return key


async def find_or_create_contact(
    tx: Connection,
    *,
    company_id: int,
    source: str,
    handle: str,
    name: str | None,
    known: KnownContacts | None = None,
) -> tuple[int, bool]:
    """As ``resolve_contact``, and whether the contact was created just now (so nothing of
    it can exist yet: no conversation to thread into)."""
    handle = canonical_handle(source, handle)
    if known is None:
        known = {}
    found = known.get((source, handle))
    if found is None:
        found = await contacts_store.key_by_handle(
            tx, company_id=company_id, source=source, handle=handle
        )
    if found is not None:
        known[(source, handle)] = found
        return found, False
    now = now_ms()
    key = await crud.insert(
        tx,
        contacts,
        company_id=company_id,
        name=name,
        description=None,
        is_private=False,
        custom_fields="{}",
        created_at=now,
        updated_at=now,
        links="[]",
        name_is_manual=False,
    )
    if await contacts_store.add_handle(
        tx, company_id=company_id, contact_id=key, source=source, handle=handle
    ):
        known[(source, handle)] = key
        return key, True
    # Another message from the same new sender created the contact first (concurrent writers
    # on PostgreSQL): use that one, and drop the contact made here, which nothing references.
    await crud.delete(tx, contacts, company_id=company_id, key=key)
    found = await contacts_store.key_by_handle(
        tx, company_id=company_id, source=source, handle=handle
    )
    assert found is not None, "the conflicting handle is committed when the insert returns"
    return found, False


# --- Writing --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Incoming:
    """Everything a message brings, whichever path it came by."""

    type: str
    source: str
    is_inbound: bool
    sender: Person
    sender_has_contact: bool
    to: list[Person]
    cc: list[Person]
    bcc: list[Person]
    subject: str
    body: str
    body_format: str
    thread_ref: str | None
    external_id: str | None
    metadata: dict[str, Any]
    at: int
    author_id: int | None
    # The plain text when the sender gave one (an email's text/plain part); else it is derived
    # from the body.
    text: str | None = None
    # An import that asked rules not to run (Front's ``metadata.should_skip_rules``): its events
    # say so, and the rules engine passes them over.
    skip_rules: bool = False


async def new_conversation(
    tx: Connection,
    *,
    company_id: int,
    source: log.Source,
    inbox: Inbox,
    subject: str,
    state: str,
    at: int,
) -> Conversation:
    """Start a conversation of type ``conversation`` in ``inbox``, with the next ticket number
    and its ``conversation_created`` event."""
    now = now_ms()
    row = await crud.insert_row(
        tx,
        conversations,
        company_id=company_id,
        type="conversation",
        subject=subject,
        state=state,
        assignee_id=None,
        status_id=None,
        waiting_since=None,
        ticket_number=await statuses_store.take_ticket_number(tx, company_id=company_id),
        is_private=inbox.is_private,
        description=None,
        due_at=None,
        custom_fields="{}",
        merged_into_id=None,
        created_at=min(at, now),
        updated_at=now,
        activity_at=at,
    )
    conv = Conversation._make(row)
    await crud.link_new(
        tx,
        joins.CONVERSATION_INBOXES,
        company_id=company_id,
        left_id=conv.id,
        right_id=inbox.id,
    )
    await log.append(
        tx,
        company_id=company_id,
        type="conversation_created",
        source=source,
        target_type="conversation",
        target_id=conv.id,
        conversation_id=conv.id,
        data={"type": "conversation", "subject": subject},
    )
    return conv


async def write_message(
    tx: Connection,
    *,
    company_id: int,
    source: log.Source,
    conv: Conversation,
    is_new: bool,
    msg: Incoming,
    channel_id: int | None,
    inbox_id: int,
    state: str | None,
    files: Sequence[StoredFile] = (),
    sender_contact: int | None = None,
    uid: str | None = None,
    known: KnownContacts | None = None,
) -> store.Message:
    """Store ``msg`` in ``conv`` with its recipients and ``files`` (already in the blob store);
    emit its events; bump the conversation (and move it to ``state`` when given).
    ``sender_contact`` is the sender's contact when the caller has resolved it already; ``uid``
    the message_uid already promised for it (a new one otherwise); ``known`` the contacts the
    transaction resolved already."""
    text = msg.text if msg.text is not None else plain_text(msg.body, msg.body_format)
    uid = uid or secrets.token_hex(16)
    written = store.Message._make(
        await crud.insert_row(
            tx,
            messages,
            company_id=company_id,
            conversation_id=conv.id,
            uid=uid,
            type=msg.type,
            is_inbound=msg.is_inbound,
            is_draft=False,
            author_id=msg.author_id,
            subject=msg.subject,
            body=msg.body,
            text=text,
            blurb=blurb(text),
            external_id=msg.external_id,
            thread_ref=msg.thread_ref,
            created_at=msg.at,
            channel_id=channel_id,
            inbox_id=inbox_id,
            metadata=orjson.dumps(msg.metadata).decode(),
            draft_mode=None,
            version=None,
            delivery_status=None,
            error_type=None,
        )
    )
    key = written.id
    await attachments_store.insert(
        tx,
        company_id=company_id,
        owner_type=attachments_store.MESSAGE,
        owner_id=key,
        files=files,
        now=now_ms(),
    )
    people = [("from", msg.sender, msg.sender_has_contact)]
    people += [
        (role, p, True)
        for role, ps in (("to", msg.to), ("cc", msg.cc), ("bcc", msg.bcc))
        for p in ps
    ]
    rows = []
    for position, (role, person, has_contact) in enumerate(people):
        contact_id = None
        if position == 0 and sender_contact is not None:
            contact_id = sender_contact
        elif has_contact:
            contact_id = await resolve_contact(
                tx,
                company_id=company_id,
                source=msg.source,
                handle=person.handle,
                name=person.name,
                known=known,
            )
        rows.append(
            {
                "company_id": company_id,
                "message_id": key,
                "position": position,
                "contact_id": contact_id,
                "handle": normalise_handle(msg.source, person.handle),
                "name": person.name,
                "role": role,
            }
        )
    await store.add_recipients(tx, rows=rows)
    values: dict[str, Any] = {"updated_at": now_ms(), "activity_at": max(conv.activity_at, msg.at)}
    skip = {"skip_rules": True} if msg.skip_rules else {}
    if state is not None and state != conv.state and conv.state in ("open", "archived"):
        values["state"] = state
        await log.append(
            tx,
            company_id=company_id,
            type="reopen" if state == "open" else "archive",
            source=source,
            conversation_id=conv.id,
            data=skip or None,
        )
    kind = "inbound" if msg.is_inbound else ("outbound" if is_new else "out_reply")
    await log.append(
        tx,
        company_id=company_id,
        type=kind,
        source=source,
        target_type="message",
        target_id=key,
        conversation_id=conv.id,
        data={"message_uid": uid, **skip},
    )
    if not is_new or "state" in values or values["activity_at"] != conv.activity_at:
        # A conversation this message starts was written with its activity already.
        await crud.update(tx, conversations, company_id=company_id, key=conv.id, **values)
    return written
