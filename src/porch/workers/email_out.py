"""Sending email: the outbox rows of email channels leave through the configured SMTP relay.

Every API process runs the loop when ``PORCH_SMTP_RELAY_URL`` is set; without it email rows wait
in the outbox. Rows are claimed, retried and recorded as the custom-channel rows are
(``workers/outbound.py``: a lease per attempt, exponential backoff, ``sending_error`` when the
message fails), with a longer lease, as a large message may take a while to hand over.

An attempt composes the email from what is stored (``channels/email/compose.py``): the sender's
name (the one the API was given, else the author's, else the channel's), the recipients, the
body and its files, In-Reply-To and References from the Message-IDs of the conversation's
earlier messages, a Reply-To naming the conversation when the channel's settings ask for one
(``"reply_to_token": true``). Its exact bytes go into the blob store, then to the relay. Taken:
the message is sent, and its ``email_messages`` row (its Message-ID, the digest of those bytes)
is written in the transaction that records it, so a reply naming it finds it and the message
exports as those bytes. Refused for good (5xx, an address that is none, an automatic message
whose every recipient is a robot that wrote last): failed at once. Anything else is retried.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import replace
from datetime import UTC, datetime

from porch.channels.email import compose, relay
from porch.channels.email.addresses import domain_of, message_id_for, reply_address, reply_token
from porch.domain.messages import files_of
from porch.storage import BlobStore
from porch.store import channels as channels_store
from porch.store import email_messages as email_store
from porch.store import messages as messages_store
from porch.store import secrets as secrets_store
from porch.store import teammates as teammates_store
from porch.store.channels import Channel
from porch.store.db import Connection, Database, Row
from porch.store.messages import Message
from porch.store.outbox import OutboxRow
from porch.timeutil import now_ms
from porch.workers.outbound import Outcome, Policy, work_due

logger = logging.getLogger("porch.email_out")

KIND = "email"
# Longer than a whole relay transaction may take (relay.TOTAL_SECONDS).
LEASE_SECONDS = 300.0
# How far back an automatic message looks for the robots it must not answer.
LOOP_WINDOW = 200


class Unsendable(Exception):
    """The row's message cannot be sent as it stands; trying again will not change that."""


async def _sender_name(db: Database, msg: Message, people: list[Row], channel: Channel) -> str:
    """The name in From: the API's sender_name (kept on the from recipient), else the
    author's (a person, not the API bot), else the channel's."""
    given = next((p["name"] for p in people if p["role"] == "from" and p["name"]), None)
    if given:
        return str(given)
    if msg.author_id is not None:
        found = await teammates_store.many(db, company_id=msg.company_id, keys=[msg.author_id])
        if found and found[0].type != "api":
            name = f"{found[0].first_name} {found[0].last_name}".strip()
            if name:
                return name
    return channel.name or ""


async def _inbound_senders(db: Database, msg: Message) -> list[tuple[str, bool]]:
    """The conversation's recent inbound messages, oldest first, as (sender address, whether
    it was automatic): what ``compose.loop_recipients`` judges."""
    latest = await messages_store.page(
        db,
        company_id=msg.company_id,
        conversation_id=msg.conversation_id,
        after=None,
        limit=LOOP_WINDOW,
        descending=True,
    )
    inbound = [m for m in reversed(latest) if m.is_inbound]
    people = await messages_store.recipients_of(
        db, company_id=msg.company_id, keys=[m.id for m in inbound]
    )
    out = []
    for m in inbound:
        sender = next((p["handle"] for p in people.get(m.id, []) if p["role"] == "from"), None)
        if sender:
            out.append((str(sender), compose.was_auto_submitted(m.meta)))
    return out


async def _reply_to(db: Database, msg: Message, address: str, name: str) -> compose.Mailbox:
    async with db.transaction() as tx:
        secret = await secrets_store.get_or_make(
            tx, company_id=msg.company_id, purpose="reply_token", now=now_ms()
        )
    token = reply_token(secret, msg.company_id, msg.conversation_id)
    return compose.Mailbox(reply_address(address, token), name)


async def build(db: Database, blobs: BlobStore, row: OutboxRow) -> compose.Mail:
    """The email of the row's message, as stored now; Unsendable when there is none to send."""
    cid = row.company_id
    msg = await messages_store.get(db, company_id=cid, key=row.message_id)
    if msg is None:
        raise Unsendable("the message no longer exists")
    channel = await channels_store.get(db, company_id=cid, key=row.channel_id)
    if channel is None:
        raise Unsendable("the channel no longer exists")
    address = channel.send_as or channel.address
    if not address:
        raise Unsendable("the channel has no address to send as")
    people = (await messages_store.recipients_of(db, company_id=cid, keys=[msg.id])).get(msg.id, [])
    boxes = {
        role: [compose.Mailbox(p["handle"], p["name"]) for p in people if p["role"] == role]
        for role in ("to", "cc", "bcc")
    }
    automatic = compose.is_automatic(msg.meta)
    if automatic:
        everyone = [b.address for bs in boxes.values() for b in bs]
        robots = compose.loop_recipients(everyone, await _inbound_senders(db, msg))
        boxes = {r: [b for b in bs if b.address.lower() not in robots] for r, bs in boxes.items()}
        if not any(boxes.values()):
            raise Unsendable("not sent: an automatic reply to automatic mail would start a loop")
    name = await _sender_name(db, msg, people, channel)
    earlier = await email_store.rfc_ids_of_conversation(
        db, company_id=cid, conversation_id=msg.conversation_id, before=(msg.created_at, msg.id)
    )
    in_reply_to, references = compose.thread_headers([rfc_id for _, rfc_id in earlier])
    reply_to = None
    if channel.settings.get("reply_to_token") is True:
        reply_to = await _reply_to(db, msg, address, name)
    attached = (await files_of(db, company_id=cid, msgs=[msg])).get(msg.id, [])
    files = [
        compose.File(a.filename, a.content_type, await blobs.open(a.sha256), a.cid)
        for a in attached
    ]
    return compose.Mail(
        message_id=message_id_for(msg.uid, domain_of(address)),
        sender=compose.Mailbox(address, name),
        to=boxes["to"],
        cc=boxes["cc"],
        bcc=boxes["bcc"],
        subject=msg.subject,
        text=msg.text,
        body=msg.body,
        date=datetime.fromtimestamp(msg.created_at / 1000, UTC),
        in_reply_to=in_reply_to,
        references=references,
        reply_to=reply_to,
        files=files,
        automatic=automatic,
    )


async def attempt(db: Database, blobs: BlobStore, to: relay.Relay, row: OutboxRow) -> Outcome:
    """Compose the row's email, keep its bytes, and hand them to the relay once."""
    try:
        mail = await build(db, blobs, row)
        raw = compose.compose(mail)
        digest = await blobs.put(raw)
    except (Unsendable, compose.ComposeError) as exc:
        return Outcome(str(exc), permanent=True)
    except Exception as exc:
        # A blob store or database hiccup: worth another try, like any relay trouble.
        logger.exception("composing message %s failed", row.message_id)
        return Outcome(f"{type(exc).__name__}: {exc}"[:1000])
    result = await relay.send(
        to, raw=raw, sender=mail.sender.address, recipients=compose.envelope(mail)
    )
    if result.error is not None:
        return Outcome(result.error, permanent=result.permanent)
    if result.refused:
        logger.warning("message %s: the relay refused %s", row.message_id, result.refused)

    async def keep(tx: Connection) -> None:
        # Deleted for good while it was being sent: nothing left to keep its email with.
        if await messages_store.get(tx, company_id=row.company_id, key=row.message_id) is None:
            return
        await email_store.add(
            tx,
            company_id=row.company_id,
            message_id=row.message_id,
            rfc_id=mail.message_id,
            raw_sha256=digest,
            raw_size=len(raw),
        )

    return Outcome(then=keep)


async def deliver_due(db: Database, *, blobs: BlobStore, to: relay.Relay, policy: Policy) -> int:
    """Attempt every email outbox row due now; the number of attempts made."""
    policy = replace(policy, lease=max(policy.lease, LEASE_SECONDS))

    async def one(row: OutboxRow) -> Outcome:
        return await attempt(db, blobs, to, row)

    return await work_due(db, kind=KIND, policy=policy, attempt=one)


async def run_email_out(
    db: Database,
    stop_event: asyncio.Event,
    *,
    blobs: BlobStore,
    to: relay.Relay,
    policy: Policy,
    interval: float = 1.0,
) -> None:
    """Send due email every ``interval`` seconds until ``stop_event`` is set; errors are
    logged and the loop goes on."""
    while not stop_event.is_set():
        try:
            await deliver_due(db, blobs=blobs, to=to, policy=policy)
        except Exception:
            logger.exception("sending email failed")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop_event.wait(), timeout=interval)
