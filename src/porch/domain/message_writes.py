"""Writing a message, whichever path it came by: its conversation when it starts one, its row,
files and recipients, its events (``inbound``, ``outbound`` or ``out_reply``) and the
conversation's bump."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from porch.domain.message_contacts import KnownContacts, normalise_handle, resolve_contact
from porch.domain.message_text import blurb, plain_text
from porch.events import log
from porch.store import attachments as attachments_store
from porch.store import crud, joins
from porch.store import messages as store
from porch.store import statuses as statuses_store
from porch.store.attachments import StoredFile
from porch.store.conversations import Conversation
from porch.store.db import Connection
from porch.store.inboxes import Inbox
from porch.store.tables import conversations, messages
from porch.timeutil import now_ms


@dataclass(frozen=True, slots=True)
class Person:
    """A handle a message names, with the display name that came with it."""

    handle: str
    name: str | None = None


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
