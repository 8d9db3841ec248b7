"""The Channel API: what a partner pushes into Porch on its channel.

Messages (``inbound_messages``, ``outbound_messages``) and every call operation are accepted
the way custom-channel messages are (``domain/incoming.py``): checked, committed to the intake
as one row of kind ``channel_api`` and answered 202; the intake worker then writes them in the
order accepted (``receive``). A message threads, in this order, into the conversation of the
message its ``referenced_message_external_id`` names, into the latest conversation of the
channel with the same ``external_conversation_id`` (kept as the message's ``thread_ref``), or
into a new conversation. An ``external_id`` already on the channel is not written twice (the
same message_uid is answered again). Calls are messages of type ``call`` threaded by
``call:<parent_external_call_id or external_call_id>``; their status changes, transcripts,
summaries and recordings follow as events (Front's ``call_*`` types where Front has one) on
the call's conversation.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from typing import Any

import orjson

from porch import ids
from porch.domain.channels import access_channel
from porch.domain.contacts import canonical_handle
from porch.domain.errors import BadRequest, Conflict, not_found
from porch.domain.messages import (
    Incoming,
    KnownContacts,
    Person,
    check_body,
    check_handle,
    find_or_create_contact,
    new_conversation,
    write_message,
)
from porch.domain.partner_channels import fail_message
from porch.domain.principal import Principal
from porch.events import log
from porch.store import attachments as attachments_store
from porch.store import channel_api as store
from porch.store import channels as channels_store
from porch.store import contacts as contacts_store
from porch.store import crud
from porch.store import intake as intake_store
from porch.store import messages as messages_store
from porch.store.attachments import StoredFile
from porch.store.channels import Channel
from porch.store.conversations import Conversation
from porch.store.db import Connection, Database, Reader
from porch.store.inboxes import Inbox
from porch.store.tables import application_message_templates, channel_calls
from porch.timeutil import now_ms

KIND = "channel_api"
# Front's call event for each call_status a partner reports.
CALL_EVENTS = {
    "queued": "call_queued",
    "ringing": "call_started",
    "connected": "call_connected",
    "hold": "call_on_hold",
    "hangup": "call_hangup",
    "abandoned": "call_abandoned",
    "missed": "call_missed",
    "transferred": "call_transferred",
}


async def access_partner_channel(conn: Reader, *, principal: Principal, ref: str) -> Channel:
    """The channel of a Channel API path: for a channel JWT the channel it was signed for
    (the authenticator checked ``sub``); for an API token any custom channel it sees."""
    if principal.partner_channel_id is not None:
        key = ids.decode(ids.CHANNEL, ref)
        found = None
        if key == principal.partner_channel_id:
            found = await channels_store.get(conn, company_id=principal.company_id, key=key)
        if found is None:
            raise not_found("channel", ref)
        return found
    return await access_channel(conn, principal=principal, ref=ref)


def check_custom(channel: Channel) -> None:
    if channel.type != "custom":
        raise BadRequest("The Channel API works on custom (application) channels only")


async def check_partner(conn: Reader, *, channel: Channel) -> store.Partner:
    """The channel's application link; 400 for a channel that has none (Front's wording)."""
    found = await store.partner(conn, company_id=channel.company_id, channel_id=channel.id)
    if found is None or found.state == "deleted":
        raise BadRequest("Channel is not an application channel")
    return found


async def _enqueue(
    db: Database, *, principal: Principal, channel: Channel, payload: dict[str, Any]
) -> str:
    uid = secrets.token_hex(16)
    source = log.source_of(principal)
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
            received_at=now_ms(),
        )
    return uid


# --- Messages -------------------------------------------------------------------------------


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
    return await _enqueue(db, principal=principal, channel=channel, payload=payload)


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


async def _receive_message(
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


# --- Message status -------------------------------------------------------------------------


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


# --- Calls ----------------------------------------------------------------------------------


async def do_create_call(
    db: Database,
    *,
    principal: Principal,
    channel: Channel,
    external_call_id: str,
    direction: str,
    initial_status: str,
    handle: str,
    name: str | None,
    started_at: int | None,
    parent_external_call_id: str,
) -> str:
    """Record a call and accept its message (type ``call``); 409 for an external_call_id the
    channel has already."""
    check_custom(channel)
    check_handle(handle)
    if not external_call_id.strip():
        raise BadRequest("external_call_id cannot be blank")
    at = started_at if started_at is not None else now_ms()
    root = parent_external_call_id.strip() or external_call_id
    party = name or handle
    payload = {
        "op": "message",
        "type": "call",
        "is_inbound": direction == "inbound",
        "people": [[handle, name, None]],
        "sender_name": None,
        "author_id": None,
        "body": f"{'Call from' if direction == 'inbound' else 'Call to'} {party}",
        "subject": None,
        "at": at,
        "external_id": None,
        "thread_ref": f"call:{root}",
        "reply_to": None,
        "files": [],
        "call": {"external_call_id": external_call_id, "status": initial_status},
    }
    uid = secrets.token_hex(16)
    source = log.source_of(principal)
    async with db.transaction() as tx:
        if await store.call(
            tx,
            company_id=principal.company_id,
            channel_id=channel.id,
            external_call_id=external_call_id,
        ):
            raise Conflict(f"The call {external_call_id!r} exists already on this channel")
        now = now_ms()
        await crud.insert(
            tx,
            channel_calls,
            company_id=principal.company_id,
            channel_id=channel.id,
            external_call_id=external_call_id,
            direction=direction,
            status=initial_status,
            message_uid=uid,
            created_at=now,
            updated_at=now,
        )
        await intake_store.add(
            tx,
            company_id=principal.company_id,
            channel_id=channel.id,
            kind=KIND,
            uid=uid,
            source_type=source.type,
            source_id=source.id,
            payload=orjson.dumps(payload).decode(),
            received_at=now,
        )
    return uid


async def access_call(
    conn: Reader, *, principal: Principal, channel: Channel, external_call_id: str
) -> dict[str, Any]:
    row = await store.call(
        conn,
        company_id=principal.company_id,
        channel_id=channel.id,
        external_call_id=external_call_id,
    )
    if row is None:
        raise not_found("call", external_call_id)
    return dict(row)


async def do_call_event(
    db: Database,
    *,
    principal: Principal,
    channel: Channel,
    call: dict[str, Any],
    op: str,
    data: dict[str, Any],
    files: Sequence[StoredFile] = (),
) -> None:
    """Accept a change to a call (``op``: status, summary, transcript, recording); the intake
    worker logs it on the call's conversation in the order accepted."""
    payload = {
        "op": op,
        "call_uid": call["message_uid"],
        "external_call_id": call["external_call_id"],
        "data": data,
        "files": [[f.filename, f.content_type, f.size, f.sha256] for f in files],
    }
    if op == "status":
        async with db.transaction() as tx:
            await crud.update(
                tx,
                channel_calls,
                company_id=principal.company_id,
                key=call["id"],
                status=data["call_status"],
                updated_at=now_ms(),
            )
    await _enqueue(db, principal=principal, channel=channel, payload=payload)


async def _receive_call_event(
    tx: Connection, *, company_id: int, source: log.Source, p: dict[str, Any]
) -> None:
    msg = await messages_store.by_uid(tx, company_id=company_id, uid=p["call_uid"])
    conv = msg.conversation_id if msg is not None else None
    data = {"external_call_id": p["external_call_id"], **p["data"]}
    target = {"target_type": "message", "target_id": msg.id} if msg is not None else {}
    if p["op"] == "status":
        kind = CALL_EVENTS[p["data"]["call_status"]]
    elif p["op"] == "transcript":
        kind = "call_transcript_added"
    elif p["op"] == "summary":
        kind = "call_summary_added"
    else:
        kind = "call_recording_added"
        if msg is not None:
            await attachments_store.insert(
                tx,
                company_id=company_id,
                owner_type=attachments_store.MESSAGE,
                owner_id=msg.id,
                files=[StoredFile(*f) for f in p["files"]],
                now=now_ms(),
            )
    await log.append(
        tx,
        company_id=company_id,
        type=kind,
        source=source,
        conversation_id=conv,
        data=data,
        **target,  # type: ignore[arg-type]
    )


async def receive(
    tx: Connection,
    *,
    company_id: int,
    source: log.Source,
    channel: Channel,
    inbox: Inbox,
    uid: str,
    payload: dict[str, Any],
    known: KnownContacts,
) -> None:
    """Write one accepted Channel API intake row (see the module)."""
    if payload["op"] == "message":
        await _receive_message(
            tx,
            company_id=company_id,
            source=source,
            channel=channel,
            inbox=inbox,
            uid=uid,
            p=payload,
            known=known,
        )
        call = payload.get("call")
        if call is not None:
            await _receive_call_event(
                tx,
                company_id=company_id,
                source=source,
                p={
                    "op": "status",
                    "call_uid": uid,
                    "external_call_id": call["external_call_id"],
                    "data": {"call_status": call["status"]},
                    "files": [],
                },
            )
        return
    await _receive_call_event(tx, company_id=company_id, source=source, p=payload)


# --- Application message templates ------------------------------------------------------------

TEMPLATE_FIELDS = (
    "name",
    "blurb",
    "is_disabled",
    "status_name",
    "variable_mappings",
    "template_preview",
)


def _template_values(fields: dict[str, Any]) -> dict[str, Any]:
    out = {k: v for k, v in fields.items() if k in TEMPLATE_FIELDS}
    if "variable_mappings" in out:
        out["variable_mappings"] = orjson.dumps(out["variable_mappings"]).decode()
    return out


async def do_sync_template(
    db: Database,
    *,
    principal: Principal,
    channel: Channel,
    external_id: str,
    fields: dict[str, Any],
) -> int:
    """Create or replace the channel's template ``external_id``; its key (``template_id``)."""
    await check_partner(db, channel=channel)
    if not external_id.strip():
        raise BadRequest("external_id cannot be blank")
    now = now_ms()
    values = _template_values(fields)
    async with db.transaction() as tx:
        found = await store.template(
            tx, company_id=principal.company_id, channel_id=channel.id, external_id=external_id
        )
        if found is None:
            key = await crud.insert(
                tx,
                application_message_templates,
                company_id=principal.company_id,
                channel_id=channel.id,
                external_id=external_id,
                created_at=now,
                updated_at=now,
                **values,
            )
        else:
            key = found.id
            await crud.update(
                tx,
                application_message_templates,
                company_id=principal.company_id,
                key=key,
                updated_at=now,
                **values,
            )
        await log.append(
            tx,
            company_id=principal.company_id,
            type="application_message_template_synced",
            source=log.source_of(principal),
            target_type="channel",
            target_id=channel.id,
            data={"external_id": external_id, "template_id": key},
        )
    return key


async def do_update_template(
    db: Database,
    *,
    principal: Principal,
    channel: Channel,
    external_id: str,
    fields: dict[str, Any],
) -> int:
    """Change the fields sent of the channel's template ``external_id`` (404 if unknown)."""
    await check_partner(db, channel=channel)
    async with db.transaction() as tx:
        found = await store.template(
            tx, company_id=principal.company_id, channel_id=channel.id, external_id=external_id
        )
        if found is None:
            raise not_found("application message template", external_id)
        values = _template_values(fields)
        if values:
            await crud.update(
                tx,
                application_message_templates,
                company_id=principal.company_id,
                key=found.id,
                updated_at=now_ms(),
                **values,
            )
            await log.append(
                tx,
                company_id=principal.company_id,
                type="application_message_template_updated",
                source=log.source_of(principal),
                target_type="channel",
                target_id=channel.id,
                data={"external_id": external_id, "fields": sorted(values)},
            )
    return found.id


# --- Channel status -------------------------------------------------------------------------


async def do_set_status(
    db: Database, *, principal: Principal, channel: Channel, status: str
) -> None:
    """The partner reports its channel ``ok`` or ``offline`` (Channel API update-channel)."""
    partner = await check_partner(db, channel=channel)
    if partner.status == status:
        return
    async with db.transaction() as tx:
        await tx.execute(
            store.SET_STATUS,
            company_id=principal.company_id,
            channel_id=channel.id,
            status=status,
            now=now_ms(),
        )
        await log.append(
            tx,
            company_id=principal.company_id,
            type="partner_channel_status",
            source=log.source_of(principal),
            target_type="channel",
            target_id=channel.id,
            data={"status": status},
        )
