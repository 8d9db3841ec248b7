"""Messages: receiving on custom channels, importing into inboxes, reading them back.

A message is visible exactly when its conversation is. Its people are recipients (``from``,
``to``, ``cc``, ``bcc``) holding a handle; each handle of the outside world resolves to one
contact per company (created the first time the handle is seen; email handles compare
lower-cased). Both inbound paths write the message before answering, so the ``message_uid``
they answer is readable at once.

Threading, as Front does it: a message with a ``thread_ref`` joins the conversation of the
latest message with that reference on the same channel (imports: the same inbox); without one
it joins the sender's latest open or archived conversation there; otherwise it starts a
conversation of type ``conversation`` in the channel's inbox. An inbound message reopens an
archived conversation (``reopen``), and every message emits ``inbound``, ``outbound`` (a new
conversation) or ``out_reply``.
"""

from __future__ import annotations

import html
import secrets
from dataclasses import dataclass
from html.parser import HTMLParser
from typing import Any

import orjson

from porch import ids
from porch.domain import refs, teammates
from porch.domain.errors import BadRequest, not_found
from porch.domain.principal import Principal
from porch.events import log
from porch.store import contacts as contacts_store
from porch.store import conversations as conversations_store
from porch.store import crud, joins
from porch.store import inboxes as inboxes_store
from porch.store import messages as store
from porch.store import teammates as teammates_store
from porch.store.channels import Channel
from porch.store.conversations import Conversation
from porch.store.db import Connection, Database, Reader, Row
from porch.store.inboxes import Inbox
from porch.store.tables import (
    contacts,
    conversations,
    messages,
    tags,
)
from porch.store.teammates import Teammate
from porch.timeutil import now_ms

# The contact handle source of each imported message type.
IMPORT_SOURCES = {"email": "email", "sms": "phone", "intercom": "intercom", "custom": "custom"}
BLURB_LENGTH = 150
# Imports carry a time of their own: any time from 1970 to the year 2500, in seconds.
MAX_IMPORT_SECONDS = 16_725_225_600


@dataclass(frozen=True, slots=True)
class MessageView:
    """A message with its recipients (sender first) and its author, as its shape shows them."""

    message: store.Message
    recipients: list[Row]
    author: Teammate | None


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
    """Each message with its recipients and author, in two queries."""
    company_id = principal.company_id
    recipients = await store.recipients_of(conn, company_id=company_id, keys=[m.id for m in msgs])
    author_keys = sorted({m.author_id for m in msgs if m.author_id is not None})
    authors = {
        t.id: t for t in await teammates_store.many(conn, company_id=company_id, keys=author_keys)
    }
    return [
        MessageView(m, recipients.get(m.id, []), authors.get(m.author_id) if m.author_id else None)
        for m in msgs
    ]


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


async def resolve_contact(
    tx: Connection, *, company_id: int, source: str, handle: str, name: str | None
) -> int:
    """The key of the contact holding ``(source, handle)``, created (named ``name``) the first
    time the handle is seen."""
    handle = normalise_handle(source, handle)
    found = await contacts_store.key_by_handle(
        tx, company_id=company_id, source=source, handle=handle
    )
    if found is not None:
        return found
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
    )
    await contacts_store.add_handle(
        tx, company_id=company_id, contact_id=key, source=source, handle=handle
    )
    return key


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


async def _follow_merges(tx: Reader, *, company_id: int, key: int) -> Conversation | None:
    conv = await conversations_store.get(tx, company_id=company_id, key=key)
    for _ in range(100):
        if conv is None or conv.merged_into_id is None:
            break
        conv = await conversations_store.get(tx, company_id=company_id, key=conv.merged_into_id)
    return conv


async def new_conversation(
    tx: Connection, *, principal: Principal, inbox: Inbox, subject: str, state: str, at: int
) -> Conversation:
    now = now_ms()
    key = await crud.insert(
        tx,
        conversations,
        company_id=principal.company_id,
        type="conversation",
        subject=subject,
        state=state,
        assignee_id=None,
        status_id=None,
        waiting_since=None,
        ticket_number=None,
        is_private=inbox.is_private,
        description=None,
        due_at=None,
        custom_fields="{}",
        merged_into_id=None,
        created_at=min(at, now),
        updated_at=now,
        activity_at=at,
    )
    await crud.link(
        tx,
        joins.CONVERSATION_INBOXES,
        company_id=principal.company_id,
        left_id=key,
        right_ids=[inbox.id],
    )
    await log.append(
        tx,
        company_id=principal.company_id,
        type="conversation_created",
        source=log.source_of(principal),
        target_type="conversation",
        target_id=key,
        conversation_id=key,
        data={"type": "conversation", "subject": subject},
    )
    conv = await conversations_store.get(tx, company_id=principal.company_id, key=key)
    assert conv is not None
    return conv


async def write_message(
    tx: Connection,
    *,
    principal: Principal,
    conv: Conversation,
    is_new: bool,
    msg: Incoming,
    channel_id: int | None,
    inbox_id: int,
    state: str | None,
) -> store.Message:
    """Store ``msg`` in ``conv`` with its recipients; emit its events; bump the conversation
    (and move it to ``state`` when given)."""
    company_id = principal.company_id
    source = log.source_of(principal)
    text = plain_text(msg.body, msg.body_format)
    uid = secrets.token_hex(16)
    key = await crud.insert(
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
    )
    people = [("from", msg.sender, msg.sender_has_contact)]
    people += [
        (role, p, True)
        for role, ps in (("to", msg.to), ("cc", msg.cc), ("bcc", msg.bcc))
        for p in ps
    ]
    for position, (role, person, has_contact) in enumerate(people):
        contact_id = None
        if has_contact:
            contact_id = await resolve_contact(
                tx, company_id=company_id, source=msg.source, handle=person.handle, name=person.name
            )
        await store.add_recipient(
            tx,
            company_id=company_id,
            message_id=key,
            position=position,
            contact_id=contact_id,
            handle=normalise_handle(msg.source, person.handle),
            name=person.name,
            role=role,
        )
    values: dict[str, Any] = {"updated_at": now_ms(), "activity_at": max(conv.activity_at, msg.at)}
    if state is not None and state != conv.state and conv.state in ("open", "archived"):
        values["state"] = state
        await log.append(
            tx,
            company_id=company_id,
            type="reopen" if state == "open" else "archive",
            source=source,
            conversation_id=conv.id,
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
        data={"message_uid": uid},
    )
    await crud.update(tx, conversations, company_id=company_id, key=conv.id, **values)
    written = await store.get(tx, company_id=company_id, key=key)
    assert written is not None
    return written


async def _thread(
    tx: Connection,
    *,
    principal: Principal,
    scope: str,
    place: int,
    thread_ref: str | None,
    sender_contact: int | None,
) -> Conversation | None:
    """The conversation a message joins by reference or by sender, following merges."""
    company_id = principal.company_id
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


async def do_receive_custom(
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
) -> store.Message:
    """Receive a message on a custom channel (Front's incoming_messages), threaded as the module
    says, and return it (its uid is the answer)."""
    if channel.type != "custom":
        raise BadRequest("Only custom channels receive messages through the API")
    check_handle(sender.handle)
    check_body(body)
    metadata: dict[str, Any] = {}
    if thread_ref is not None:
        metadata["thread_ref"] = thread_ref
    if headers is not None:
        metadata["headers"] = headers
    at = now_ms()
    msg = Incoming(
        type="custom",
        source="custom",
        is_inbound=True,
        sender=sender,
        sender_has_contact=True,
        to=[Person(channel.address)] if channel.address else [],
        cc=[],
        bcc=[],
        subject=subject or "",
        body=body,
        body_format=body_format,
        thread_ref=thread_ref,
        external_id=None,
        metadata=metadata,
        at=at,
        author_id=None,
    )
    async with db.transaction() as tx:
        inbox = await inboxes_store.get(tx, company_id=principal.company_id, key=channel.inbox_id)
        if inbox is None:
            raise not_found("channel", ids.encode(ids.CHANNEL, channel.id))
        contact = await resolve_contact(
            tx,
            company_id=principal.company_id,
            source="custom",
            handle=sender.handle,
            name=sender.name,
        )
        conv = await _thread(
            tx,
            principal=principal,
            scope="channel",
            place=channel.id,
            thread_ref=thread_ref,
            sender_contact=contact,
        )
        is_new = conv is None
        if conv is None:
            conv = await new_conversation(
                tx, principal=principal, inbox=inbox, subject=msg.subject, state="open", at=at
            )
        return await write_message(
            tx,
            principal=principal,
            conv=conv,
            is_new=is_new,
            msg=msg,
            channel_id=channel.id,
            inbox_id=inbox.id,
            state="open",
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
) -> store.Message:
    """Import a message into ``inbox`` (Front's imported_messages) and return it. An
    ``external_id`` already imported into the inbox imports nothing and returns that first
    message. ``conversation_ref`` threads into that conversation, ignoring ``thread_ref``."""
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
                principal=principal,
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
                tx, principal=principal, inbox=inbox, subject=subject or "", state=state, at=at
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
        )
        written = await write_message(
            tx,
            principal=principal,
            conv=conv,
            is_new=is_new,
            msg=msg,
            channel_id=None,
            inbox_id=inbox.id,
            state=state,
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
            )
        if tag_names:
            await _tag_by_names(tx, principal=principal, conv=conv, names=tag_names)
        return written
