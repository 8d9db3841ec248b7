"""The intake worker's side of the Channel API: one accepted intake row written."""

from __future__ import annotations

from typing import Any

from porch.domain.channel_api.calls import receive_call_event
from porch.domain.channel_api.messages import receive_message
from porch.domain.message_contacts import KnownContacts
from porch.events import log
from porch.store.channels import Channel
from porch.store.db import Connection
from porch.store.inboxes import Inbox


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
        await receive_message(
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
            await receive_call_event(
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
    await receive_call_event(tx, company_id=company_id, source=source, p=payload)
