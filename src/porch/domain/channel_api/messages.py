"""Channel API messages: accepted (``inbound_messages``, ``outbound_messages``), written by the
intake worker with their contacts and thread, and marked failed by the partner."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from porch.domain.channel_api.partner import check_custom, enqueue
from porch.domain.contacts import canonical_handle
from porch.domain.errors import BadRequest, not_found
from porch.domain.message_contacts import KnownContacts, check_handle, find_or_create_contact
from porch.domain.message_text import check_body
from porch.domain.message_writes import Incoming, Person, new_conversation, write_message
from porch.domain.partner_channels import fail_message
from porch.domain.principal import Principal
from porch.events import log
from porch.store import channel_api as store
from porch.store import contacts as contacts_store
from porch.store import messages as messages_store
from porch.store.attachments import StoredFile
from porch.store.channels import Channel
from porch.store.conversations import Conversation
from porch.store.db import Connection, Database
from porch.store.inboxes import Inbox
from porch.timeutil import now_ms


async def do_accept_message(
    db: Database,
    *,
    principal: Principal,
    channel: Channel,
    is_inbound: bool,
    people: Sequence[tuple[str, str | None, str | None]],
    sender_name: str | None,
    author_id: int | None,
    body: str,
    subject: str | None,
    delivered_at: int | None,
    external_id: str,
    external_conversation_id: str,
    referenced_message_external_id: str | None,
    files: Sequence[StoredFile] = (),
) -> str:
    """Accept a message the partner synced (inbound: ``people`` is the sender; outbound: the
    recipients, each (handle, name, email)) and return its message_uid. A message whose
    ``external_id`` the channel has already gets that message's uid and is not stored again."""
    check_custom(channel)
    check_body(body)
    for handle, _, _ in people:
        check_handle(handle)
    if not people:
        raise BadRequest("to needs at least one recipient")
    if delivered_at is not None and not 0 <= delivered_at < 16_725_225_600:
        raise BadRequest("delivered_at must be a time in seconds")
    for name, value in (
        ("external_id", external_id),
        ("external_conversation_id", external_conversation_id),
    ):
        if not value.strip():
            raise BadRequest(f"metadata.{name} cannot be blank")
    same = await store.message_by_external_id(
        db, company_id=principal.company_id, channel_id=channel.id, external_id=external_id
    )
    if same is not None:
        return str(same["uid"])
    at = delivered_at * 1000 if delivered_at is not None else now_ms()
    payload = {
        "op": "message",
        "is_inbound": is_inbound,
        "people": [list(p) for p in people],
        "sender_name": sender_name,
        "author_id": author_id,
        "body": body,
        "subject": subject,
        "at": at,
        "external_id": external_id,
        "thread_ref": external_conversation_id,
        "reply_to": referenced_message_external_id,
        "files": [[f.filename, f.content_type, f.size, f.sha256] for f in files],
    }
    return await enqueue(db, principal=principal, channel=channel, payload=payload)


async def _contact(
    tx: Connection,
    *,
    company_id: int,
    handle: str,
    name: str | None,
    email: str | None,
    known: KnownContacts,
) -> int:
    """The contact of a partner's handle; with an email, the contact holding that address
    takes the handle (Front: ``email`` links the sender to existing contacts)."""
    if email:
        email = canonical_handle("email", email)
        holder = await contacts_store.key_by_handle(
            tx, company_id=company_id, source="email", handle=email
        )
        held = await contacts_store.key_by_handle(
            tx, company_id=company_id, source="custom", handle=canonical_handle("custom", handle)
        )
        if holder is not None and held is None:
            await contacts_store.add_handle(
                tx,
                company_id=company_id,
                contact_id=holder,
                source="custom",
                handle=canonical_handle("custom", handle),
            )
            known[("custom", canonical_handle("custom", handle))] = holder
            return holder
    key, is_new = await find_or_create_contact(
        tx, company_id=company_id, source="custom", handle=handle, name=name, known=known
    )
    if email and is_new:
        # A new contact keeps the address too, so later email from it finds the same contact.
        await contacts_store.add_handle(
            tx, company_id=company_id, contact_id=key, source="email", handle=email
        )
    return key


async def _conversation_of(
    tx: Connection, *, company_id: int, channel: Channel, thread_ref: str, reply_to: str | None
) -> Conversation | None:
    from porch.domain.incoming import _follow_merges

    found: int | None = None
    if reply_to:
        row = await store.message_by_external_id(
            tx, company_id=company_id, channel_id=channel.id, external_id=reply_to
        )
        found = int(row["conversation_id"]) if row else None
    if found is None:
        found = await messages_store.thread_by_ref(
            tx, company_id=company_id, scope="channel", place=channel.id, thread_ref=thread_ref
        )
    return None if found is None else await _follow_merges(tx, company_id=company_id, key=found)


async def receive_message(
    tx: Connection,
    *,
    company_id: int,
    source: log.Source,
    channel: Channel,
    inbox: Inbox,
    uid: str,
    p: dict[str, Any],
    known: KnownContacts,
) -> None:
    """Write an accepted message (``op`` message), once per ``external_id`` on the channel."""
    if p["external_id"] is not None and await store.message_by_external_id(
        tx, company_id=company_id, channel_id=channel.id, external_id=p["external_id"]
    ):
        return  # the same external id twice in the intake: written once
    people = [Person(h, n) for h, n, _ in p["people"]]
    own = Person(channel.address or "", p.get("sender_name"))
    contact = None
    if p["is_inbound"]:
        handle, name, email = p["people"][0]
        contact = await _contact(
            tx, company_id=company_id, handle=handle, name=name, email=email, known=known
        )
    else:
        for handle, name, email in p["people"]:
            await _contact(
                tx, company_id=company_id, handle=handle, name=name, email=email, known=known
            )
    msg = Incoming(
        type=p.get("type", "custom"),
        source="custom",
        is_inbound=p["is_inbound"],
        sender=people[0] if p["is_inbound"] else own,
        sender_has_contact=p["is_inbound"],
        to=[own] if p["is_inbound"] and channel.address else ([] if p["is_inbound"] else people),
        cc=[],
        bcc=[],
        subject=p["subject"] or "",
        body=p["body"],
        body_format="html",
        thread_ref=p["thread_ref"],
        external_id=p["external_id"],
        metadata={"thread_ref": p["thread_ref"]},
        at=p["at"],
        author_id=p["author_id"],
    )
    conv = await _conversation_of(
        tx,
        company_id=company_id,
        channel=channel,
        thread_ref=p["thread_ref"],
        reply_to=p.get("reply_to"),
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
            at=p["at"],
        )
    await write_message(
        tx,
        company_id=company_id,
        source=source,
        conv=conv,
        is_new=is_new,
        msg=msg,
        channel_id=channel.id,
        inbox_id=inbox.id,
        state="open" if p["is_inbound"] else None,
        files=[StoredFile(*f) for f in p["files"]],
        sender_contact=contact,
        uid=uid,
        known=known,
    )


async def do_mark_failed(
    db: Database,
    *,
    principal: Principal,
    channel: Channel,
    conversation_external_id: str,
    message_external_id: str,
    reason: str | None,
) -> None:
    """The partner could not deliver a message: it is marked failed (``sending_error``) and
    its conversation reopened. An external id pair the channel does not know is a 404."""
    check_custom(channel)
    async with db.transaction() as tx:
        row = await store.message_by_external_id(
            tx,
            company_id=principal.company_id,
            channel_id=channel.id,
            external_id=message_external_id,
        )
        if row is None or row["thread_ref"] not in (None, conversation_external_id):
            raise not_found("message", f"{conversation_external_id}/{message_external_id}")
        await fail_message(
            tx,
            company_id=principal.company_id,
            message_id=row["id"],
            conversation_id=row["conversation_id"],
            error=reason or "the partner reported the message failed",
            source=log.source_of(principal),
        )
