"""Partner channels: custom channels linked to an application, and the calls Porch makes to
the partner about them.

Creating a channel with ``application_uid`` links it to that application of the company and
queues ``authorization`` (``{"type":"authorization","payload":{"channel_id":"cha_…"}}``) to the
app's channel base URL: the channel's ``settings.webhook_url`` as sent, else the application's
``webhook_url``. The partner's reply ``{"type":"success","webhook_url":…}`` becomes the
channel's ``webhook_url`` (where ``message`` goes). Deleting the link queues an HTTP DELETE to
that URL (no body) and refuses the channel's JWTs from then on. A message imported into the
channel's inbox (``POST /inboxes/{id}/imported_messages``) queues ``message_imported``
(``{"type":"message_imported","payload":<message>,"metadata":{"external_conversation_id",
"external_conversation_ids"}}``) to that URL too. These calls are rows of
``partner_deliveries``, attempted and retried by the outbound worker
(``workers/partner_calls.py``). Replies and automatic replies (a rule's template reply:
``message_autoreply``) are outbox rows, like any sent message (``workers/outbound.py``).

Every call to a partner or to a custom channel's ``webhook_url`` is signed as Front signs
them: ``x-front-request-timestamp`` (ms) and ``x-front-signature`` = base64 HMAC-SHA256 over
``"<timestamp>:" + body`` (the literal ``undefined`` for a DELETE), keyed with the app secret
of a partner channel, or with the channel's own secret (``webhook_secret``) for a custom
channel without an application.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from typing import Any

import orjson

from porch import ids
from porch.domain.errors import BadRequest
from porch.domain.principal import Principal
from porch.events import log
from porch.store import channel_api as store
from porch.store import channels as channels_store
from porch.store import conversations as conversations_store
from porch.store import crud
from porch.store import secrets as secrets_store
from porch.store.channels import Channel
from porch.store.db import Connection, Database, Reader
from porch.store.tables import channels as channels_table
from porch.store.tables import conversations, messages, partner_deliveries
from porch.timeutil import now_ms

# Front's error_type for a message its channel would not take.
ERROR_TYPE = "delivery_failure"


def webhook_secret_purpose(channel_id: int) -> str:
    """The company secret that signs a custom channel's webhooks when it has no application."""
    return f"channel_webhook:{channel_id}"


def sign(secret: str, timestamp: str, body: bytes | None) -> str:
    """Front's ``x-front-signature``: base64 HMAC-SHA256 of ``"<timestamp>:" + body``, with
    ``undefined`` standing for the body of a request that has none."""
    signed = timestamp.encode() + b":" + (body if body is not None else b"undefined")
    digest = hmac.new(secret.encode(), signed, hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def signed_headers(secret: str, body: bytes | None) -> dict[str, str]:
    ts = str(now_ms())
    headers = {"x-front-request-timestamp": ts, "x-front-signature": sign(secret, ts, body)}
    if body is not None:
        headers["content-type"] = "application/json"
    return headers


async def signing_secret(db: Database, *, channel: Channel) -> str:
    """The key a channel's webhooks are signed with (made on first use for plain custom
    channels)."""
    partner = await store.partner(db, company_id=channel.company_id, channel_id=channel.id)
    if partner is not None:
        return partner.secret
    purpose = webhook_secret_purpose(channel.id)
    found = await secrets_store.get(db, company_id=channel.company_id, purpose=purpose)
    if found is None:
        async with db.transaction() as tx:
            found = await secrets_store.get_or_make(
                tx, company_id=channel.company_id, purpose=purpose, now=now_ms()
            )
    return found.hex()


async def link_partner(
    tx: Connection,
    *,
    company_id: int,
    channel_id: int,
    application_id: int,
    base_url: str,
) -> None:
    """Link a new channel to its application and queue ``authorization`` to ``base_url``."""
    now = now_ms()
    await tx.execute(
        store.INSERT_PARTNER,
        channel_id=channel_id,
        company_id=company_id,
        application_id=application_id,
        base_url=base_url,
        state="pending",
        status="ok",
        created_at=now,
        updated_at=now,
    )
    body = {"type": "authorization", "payload": {"channel_id": ids.encode(ids.CHANNEL, channel_id)}}
    await _queue(
        tx,
        company_id=company_id,
        channel_id=channel_id,
        kind="authorization",
        url=base_url,
        body=orjson.dumps(body).decode(),
    )


async def _queue(
    tx: Connection, *, company_id: int, channel_id: int, kind: str, url: str, body: str
) -> None:
    now = now_ms()
    await crud.insert(
        tx,
        partner_deliveries,
        company_id=company_id,
        channel_id=channel_id,
        kind=kind,
        url=url,
        body=body,
        state="pending",
        attempts=0,
        next_attempt_at=now,
        last_error=None,
        created_at=now,
        updated_at=now,
    )


def imported_message_ref(body: str) -> int | None:
    """The key of the message a queued ``message_imported`` call is about (its body holds the
    message's id until the worker renders the whole message at the attempt)."""
    data = orjson.loads(body)
    ref = data.get("payload", {}).get("id") if isinstance(data, dict) else None
    return ids.decode(ids.MESSAGE, ref) if isinstance(ref, str) else None


async def queue_message_imported(
    tx: Connection, *, company_id: int, inbox_id: int, message_id: int, conversation_id: int
) -> None:
    """Tell each partner channel of ``inbox_id`` that a message was imported into it. The
    metadata names the conversation's external ids as the import left them: every
    ``thread_ref`` of its messages (first seen first) and, as ``external_conversation_id``,
    the latest (null when it has none)."""
    partners = await store.partners_of_inbox(tx, company_id=company_id, inbox_id=inbox_id)
    if not partners:
        return
    refs = await store.thread_refs_of(tx, company_id=company_id, conversation_id=conversation_id)
    body = {
        "type": "message_imported",
        # The whole message is rendered when the call is made (workers/partner_calls.py).
        "payload": {"id": ids.encode(ids.MESSAGE, message_id)},
        "metadata": {
            "external_conversation_id": refs[-1] if refs else None,
            "external_conversation_ids": refs,
        },
    }
    for partner in partners:
        channel = await channels_store.get(tx, company_id=company_id, key=partner.channel_id)
        url = (channel.settings.get("webhook_url") if channel else None) or partner.base_url
        await _queue(
            tx,
            company_id=company_id,
            channel_id=partner.channel_id,
            kind="message_imported",
            url=str(url),
            body=orjson.dumps(body).decode(),
        )


async def application_for(
    conn: Reader, *, company_id: int, uid: str, base_url: str | None
) -> tuple[int, str]:
    """The application a new channel names and its channel base URL; 400 when the company has
    no such application or there is nowhere to send ``authorization``."""
    app = await store.application_by_uid(conn, company_id=company_id, uid=uid)
    if app is None:
        raise BadRequest(f"Unknown application_uid {uid!r}")
    url = base_url or app["webhook_url"]
    if not url:
        raise BadRequest(
            "An application channel needs settings.webhook_url (the app's channel base URL) "
            "or an application with a webhook_url"
        )
    return int(app["id"]), str(url)


async def do_delete_partner(db: Database, *, principal: Principal, channel: Channel) -> None:
    """Unlink a partner channel: its JWTs are refused from now on and the partner is told with
    an HTTP DELETE to the channel's webhook_url. 400 for a channel that is not one."""
    partner = await store.partner(db, company_id=principal.company_id, channel_id=channel.id)
    if partner is None or partner.state == "deleted":
        raise BadRequest("Channel is not an application channel")
    url = channel.settings.get("webhook_url") or partner.base_url
    async with db.transaction() as tx:
        await tx.execute(
            store.SET_STATE,
            company_id=principal.company_id,
            channel_id=channel.id,
            state="deleted",
            now=now_ms(),
        )
        await _queue(
            tx,
            company_id=principal.company_id,
            channel_id=channel.id,
            kind="delete",
            url=str(url),
            body="",
        )
        await log.append(
            tx,
            company_id=principal.company_id,
            type="partner_channel_deleted",
            source=log.source_of(principal),
            target_type="channel",
            target_id=channel.id,
            data={"application_uid": partner.application_uid},
        )


async def authorized(
    tx: Connection, *, company_id: int, channel: Channel, webhook_url: str | None
) -> None:
    """The partner accepted ``authorization``: its ``webhook_url`` (else the base URL) is
    where the channel's messages go, and the channel is valid."""
    partner = await store.partner(tx, company_id=company_id, channel_id=channel.id)
    if partner is None or partner.state != "pending":
        return
    settings: dict[str, Any] = dict(channel.settings)
    settings["webhook_url"] = webhook_url or partner.base_url
    await crud.update(
        tx,
        channels_table,
        company_id=company_id,
        key=channel.id,
        settings=orjson.dumps(settings).decode(),
        is_valid=True,
    )
    await tx.execute(
        store.SET_STATE,
        company_id=company_id,
        channel_id=channel.id,
        state="authorized",
        now=now_ms(),
    )
    await log.append(
        tx,
        company_id=company_id,
        type="partner_channel_authorized",
        source=log.SYSTEM,
        target_type="channel",
        target_id=channel.id,
        data={"webhook_url": settings["webhook_url"]},
    )


async def fail_message(
    tx: Connection,
    *,
    company_id: int,
    message_id: int,
    conversation_id: int,
    error: str,
    source: log.Source,
) -> None:
    """Mark a sent message failed (Front's ``sending_error``) and reopen its conversation, so
    a teammate sees the reply did not reach the customer."""
    await crud.update(
        tx,
        messages,
        company_id=company_id,
        key=message_id,
        delivery_status="failed",
        error_type=ERROR_TYPE,
    )
    await log.append(
        tx,
        company_id=company_id,
        type="sending_error",
        source=source,
        target_type="message",
        target_id=message_id,
        conversation_id=conversation_id,
        data={"error": error},
    )
    conv = await conversations_store.get(tx, company_id=company_id, key=conversation_id)
    if conv is not None and conv.state == "archived":
        await crud.update(
            tx,
            conversations,
            company_id=company_id,
            key=conv.id,
            state="open",
            updated_at=now_ms(),
        )
        await log.append(
            tx, company_id=company_id, type="reopen", source=source, conversation_id=conv.id
        )
