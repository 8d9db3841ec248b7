"""Channel API calls: a call recorded and its message accepted, then its status changes,
transcripts, summaries and recordings, logged on the call's conversation as events."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from typing import Any

import orjson

from porch.domain.channel_api.partner import KIND, check_custom, enqueue
from porch.domain.errors import BadRequest, Conflict, not_found
from porch.domain.message_contacts import check_handle
from porch.domain.principal import Principal
from porch.events import log
from porch.store import attachments as attachments_store
from porch.store import channel_api as store
from porch.store import crud
from porch.store import intake as intake_store
from porch.store import messages as messages_store
from porch.store.attachments import StoredFile
from porch.store.channels import Channel
from porch.store.db import Connection, Database, Reader
from porch.store.tables import channel_calls
from porch.timeutil import now_ms

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
    await enqueue(db, principal=principal, channel=channel, payload=payload)


async def receive_call_event(
    tx: Connection, *, company_id: int, source: log.Source, p: dict[str, Any]
) -> None:
    """Log an accepted change to a call as its event, on the call's conversation."""
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
