"""The Channel API's partner channel: which channel a path names, the checks every operation
makes, the intake its operations are accepted into, and the status the partner reports."""

from __future__ import annotations

import secrets
from typing import Any

import orjson

from porch import ids
from porch.domain.channels import access_channel
from porch.domain.errors import BadRequest, not_found
from porch.domain.principal import Principal
from porch.events import log
from porch.store import channel_api as store
from porch.store import channels as channels_store
from porch.store import intake as intake_store
from porch.store.channels import Channel
from porch.store.db import Database, Reader
from porch.timeutil import now_ms

KIND = "channel_api"


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


async def enqueue(
    db: Database, *, principal: Principal, channel: Channel, payload: dict[str, Any]
) -> str:
    """Commit ``payload`` to the intake as one Channel API row; the row's uid (the message_uid
    of a message)."""
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
