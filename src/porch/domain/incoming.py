"""Messages that come in: received on custom channels and imported into inboxes.

Threading, as Front does it: a message with a ``thread_ref`` joins the conversation of the
latest message with that reference on the same channel (imports: the same inbox); without one
it joins the sender's latest open or archived conversation there; otherwise it starts a
conversation of type ``conversation`` in the channel's inbox. An inbound message reopens an
archived conversation (``reopen``). Files sent with the message (already in the blob store) are
attached in the transaction that writes it.

Custom-channel messages are accepted and written in two steps, as Front does (202 with a
message_uid that ``GET /messages/alt:uid:…`` finds once the message is created): the request is
checked and committed to the intake, then the intake worker writes it. An answered message is
durable before the answer, and the costly part (threading, contacts, events) runs in batches off
the request path. Imports are written before their answer (they dedupe by ``external_id``).
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from porch import ids
from porch.domain import partner_channels, teammates
from porch.domain.errors import BadRequest, not_found
from porch.domain.message_contacts import (
    KnownContacts,
    check_handle,
    find_or_create_contact,
    resolve_contact,
)
from porch.domain.message_text import check_body
from porch.domain.message_writes import Incoming, Person, new_conversation, write_message
from porch.domain.principal import Principal
from porch.events import log
from porch.store import conversations as conversations_store
from porch.store import crud, joins
from porch.store import intake as intake_store
from porch.store import messages as store
from porch.store.attachments import StoredFile
from porch.store.channels import Channel
from porch.store.conversations import Conversation
from porch.store.db import Connection, Database, Reader
from porch.store.inboxes import Inbox
from porch.store.tables import conversations, tags
from porch.timeutil import now_ms

# The intake kind of custom-channel messages.
KIND = "custom"
# The contact handle source of each imported message type.
IMPORT_SOURCES = {"email": "email", "sms": "phone", "intercom": "intercom", "custom": "custom"}
# Imports carry a time of their own: any time from 1970 to the year 2500, in seconds.
MAX_IMPORT_SECONDS = 16_725_225_600


async def _follow_merges(tx: Reader, *, company_id: int, key: int) -> Conversation | None:
    conv = await conversations_store.get(tx, company_id=company_id, key=key)
    for _ in range(100):
        if conv is None or conv.merged_into_id is None:
            break
        conv = await conversations_store.get(tx, company_id=company_id, key=conv.merged_into_id)
    return conv


async def _thread(
    tx: Connection,
    *,
    company_id: int,
    scope: str,
    place: int,
    thread_ref: str | None,
    sender_contact: int | None,
) -> Conversation | None:
    """The conversation a message joins by reference or by sender, following merges."""
    found = None
    if thread_ref is not None:
        found = await store.thread_by_ref(
            tx, company_id=company_id, scope=scope, place=place, thread_ref=thread_ref
        )
    elif sender_contact is not None:
        found = await store.thread_by_sender(
            tx, company_id=company_id, scope=scope, place=place, contact_id=sender_contact
        )
    if found is None:
        return None
    return await _follow_merges(tx, company_id=company_id, key=found)


async def do_accept_custom(
    db: Database,
    *,
    principal: Principal,
    channel: Channel,
    sender: Person,
    body: str,
    subject: str | None,
    body_format: str,
    thread_ref: str | None,
    headers: dict[str, Any] | None,
    files: Sequence[StoredFile] = (),
) -> str:
    """Accept a message on a custom channel (Front's incoming_messages) and return the
    message_uid it will have. What can be wrong with it is checked now; it is committed to the
    intake before this returns, and the intake worker (``receive_custom``) writes it into its
    conversation soon after, also if this process stops first."""
    if channel.type != "custom":
        raise BadRequest("Only custom channels receive messages through the API")
    check_handle(sender.handle)
    check_body(body)
    uid = secrets.token_hex(16)
    source = log.source_of(principal)
    at = now_ms()
    payload = CustomPayload(
        handle=sender.handle,
        name=sender.name,
        subject=subject,
        body=body,
        body_format=body_format,
        thread_ref=thread_ref,
        headers=headers,
        files=[[f.filename, f.content_type, f.size, f.sha256] for f in files],
        at=at,
    )
    async with db.transaction() as tx:
        await intake_store.add(
            tx,
            company_id=principal.company_id,
            channel_id=channel.id,
            kind=KIND,
            uid=uid,
            source_type=source.type,
            source_id=source.id,
            payload=orjson.dumps(payload).decode(),
            received_at=at,
        )
    return uid


@dataclass(frozen=True, slots=True)
class CustomPayload:
    """What the intake keeps of an incoming_messages body (as JSON: orjson writes a dataclass
    as an object of its fields)."""

    handle: str
    name: str | None
    subject: str | None
    body: str
    body_format: str
    thread_ref: str | None
    headers: dict[str, Any] | None
    # StoredFile fields, in order.
    files: list[Any]
    # When it was accepted (ms): the message's time.
    at: int


async def receive_custom(
    tx: Connection,
    *,
    company_id: int,
    source: log.Source,
    channel: Channel,
    inbox: Inbox,
    uid: str,
    payload: CustomPayload,
    known: KnownContacts | None = None,
) -> store.Message:
    """Write an accepted custom-channel message (see ``do_accept_custom``) into its
    conversation, threaded as the module says, with its files, under the uid it was given.
    ``known`` holds the contacts the transaction resolved already."""
    metadata: dict[str, Any] = {}
    if payload.thread_ref is not None:
        metadata["thread_ref"] = payload.thread_ref
    if payload.headers is not None:
        metadata["headers"] = payload.headers
    sender = Person(payload.handle, payload.name)
    msg = Incoming(
        type="custom",
        source="custom",
        is_inbound=True,
        sender=sender,
        sender_has_contact=True,
        to=[Person(channel.address)] if channel.address else [],
        cc=[],
        bcc=[],
        subject=payload.subject or "",
        body=payload.body,
        body_format=payload.body_format,
        thread_ref=payload.thread_ref,
        external_id=None,
        metadata=metadata,
        at=payload.at,
        author_id=None,
    )
    contact, is_new_contact = await find_or_create_contact(
        tx,
        company_id=company_id,
        source="custom",
        handle=sender.handle,
        name=sender.name,
        known=known,
    )
    conv = await _thread(
        tx,
        company_id=company_id,
        scope="channel",
        place=channel.id,
        thread_ref=payload.thread_ref,
        # A sender seen for the first time has no conversation to join.
        sender_contact=None if is_new_contact else contact,
    )
    is_new = conv is None
    if conv is None:
        conv = await new_conversation(
            tx,
            company_id=company_id,
            source=source,
            inbox=inbox,
            subject=msg.subject,
            state="open",
            at=payload.at,
        )
    return await write_message(
        tx,
        company_id=company_id,
        source=source,
        conv=conv,
        is_new=is_new,
        msg=msg,
        channel_id=channel.id,
        inbox_id=inbox.id,
        state="open",
        files=[StoredFile(*f) for f in payload.files],
        sender_contact=contact,
        uid=uid,
        known=known,
    )


async def _tag_by_names(
    tx: Connection, *, principal: Principal, conv: Conversation, names: list[str]
) -> None:
    """Tag ``conv`` with the company tags of these names, creating the missing ones."""
    company_id = principal.company_id
    source = log.source_of(principal)
    have = {
        r["id"]
        for r in (await conversations_store.tag_rows_of(tx, keys=[conv.id])).get(conv.id, [])
    }
    for name in dict.fromkeys(names):
        key = await store.company_tag_key(tx, company_id=company_id, name=name)
        if key is None:
            now = now_ms()
            key = await crud.insert(
                tx,
                tags,
                company_id=company_id,
                name=name,
                description=None,
                highlight=None,
                is_visible_in_conversation_lists=False,
                parent_id=None,
                team_id=None,
                owner_teammate_id=None,
                created_at=now,
                updated_at=now,
            )
            await log.append(
                tx,
                company_id=company_id,
                type="tag_created",
                source=source,
                target_type="tag",
                target_id=key,
                data={"name": name},
            )
        if key in have:
            continue
        have.add(key)
        await crud.link(
            tx, joins.CONVERSATION_TAGS, company_id=company_id, left_id=conv.id, right_ids=[key]
        )
        await log.append(
            tx,
            company_id=company_id,
            type="tag",
            source=source,
            target_type="tag",
            target_id=key,
            conversation_id=conv.id,
        )


async def do_import(
    db: Database,
    *,
    principal: Principal,
    inbox: Inbox,
    type: str,
    sender: Person,
    author_ref: str | None,
    to: list[str],
    cc: list[str],
    bcc: list[str],
    subject: str | None,
    body: str,
    body_format: str,
    external_id: str,
    created_at: int,
    assignee_ref: str | None,
    tag_names: list[str],
    conversation_ref: str | None,
    is_inbound: bool,
    thread_ref: str | None,
    is_archived: bool,
    files: Sequence[StoredFile] = (),
    skip_rules: bool = True,
) -> store.Message:
    """Import a message into ``inbox`` (Front's imported_messages) and return it. An
    ``external_id`` already imported into the inbox imports nothing and returns that first
    message. ``conversation_ref`` threads into that conversation, ignoring ``thread_ref``.
    ``files`` are attached to the message."""
    check_handle(sender.handle)
    check_body(body)
    for handle in [*to, *cc, *bcc]:
        check_handle(handle)
    if not to:
        raise BadRequest("to needs at least one recipient")
    if not 0 <= created_at <= MAX_IMPORT_SECONDS:
        raise BadRequest("created_at must be a time in seconds")
    for name in tag_names:
        if not name.strip():
            raise BadRequest("A tag name must not be empty")
    if conversation_ref is not None:
        thread_ref = None
    company_id = principal.company_id
    source = IMPORT_SOURCES[type]
    async with db.transaction() as tx:
        first = await store.by_external_id(
            tx, company_id=company_id, inbox_id=inbox.id, external_id=external_id
        )
        if first is not None:
            return first
        author_id = None
        if author_ref is not None and not is_inbound:
            author_id = (
                await teammates.access_teammate(tx, principal=principal, ref=author_ref)
            ).id
        assignee = None
        if assignee_ref is not None:
            assignee = await teammates.access_teammate(tx, principal=principal, ref=assignee_ref)
        conv = None
        if conversation_ref is not None:
            key = ids.decode(ids.CONVERSATION, conversation_ref)
            found = None
            if key is not None:
                found = await conversations_store.get_visible(
                    tx, company_id=company_id, key=key, vis=principal.visibility()
                )
            if found is None:
                raise not_found("conversation", conversation_ref)
            conv = await _follow_merges(tx, company_id=company_id, key=found.id)
        elif thread_ref is not None or is_inbound:
            # Outbound messages thread by reference only: their sender is the company itself.
            contact = None
            if thread_ref is None:
                contact = await resolve_contact(
                    tx, company_id=company_id, source=source, handle=sender.handle, name=sender.name
                )
            conv = await _thread(
                tx,
                company_id=company_id,
                scope="inbox",
                place=inbox.id,
                thread_ref=thread_ref,
                sender_contact=contact,
            )
        at = created_at * 1000
        state = "archived" if is_archived else "open"
        is_new = conv is None
        if conv is None:
            conv = await new_conversation(
                tx,
                company_id=company_id,
                source=log.source_of(principal),
                inbox=inbox,
                subject=subject or "",
                state=state,
                at=at,
            )
        metadata: dict[str, Any] = {"thread_ref": thread_ref} if thread_ref is not None else {}
        msg = Incoming(
            type=type,
            source=source,
            is_inbound=is_inbound,
            sender=sender,
            sender_has_contact=is_inbound,
            to=[Person(h) for h in to],
            cc=[Person(h) for h in cc],
            bcc=[Person(h) for h in bcc],
            subject=subject or "",
            body=body,
            body_format=body_format,
            thread_ref=thread_ref,
            external_id=external_id,
            metadata=metadata,
            at=at,
            author_id=author_id,
            skip_rules=skip_rules,
        )
        written = await write_message(
            tx,
            company_id=company_id,
            source=log.source_of(principal),
            conv=conv,
            is_new=is_new,
            msg=msg,
            channel_id=None,
            inbox_id=inbox.id,
            state=state,
            files=files,
        )
        if assignee is not None and assignee.id != conv.assignee_id:
            await crud.update(
                tx, conversations, company_id=company_id, key=conv.id, assignee_id=assignee.id
            )
            await log.append(
                tx,
                company_id=company_id,
                type="assign",
                source=log.source_of(principal),
                target_type="teammate",
                target_id=assignee.id,
                conversation_id=conv.id,
                data={"skip_rules": True} if skip_rules else None,
            )
        if tag_names:
            await _tag_by_names(tx, principal=principal, conv=conv, names=tag_names)
        # A partner channel of the inbox hears of the import (Front's message_imported).
        await partner_channels.queue_message_imported(
            tx,
            company_id=company_id,
            inbox_id=inbox.id,
            message_id=written.id,
            conversation_id=conv.id,
        )
        return written
