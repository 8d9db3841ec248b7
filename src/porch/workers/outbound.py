"""Delivering sent messages: the outbox rows of custom channels are POSTed to the channel's
``webhook_url``.

Every API process runs the loop. A due row (pending, ``next_attempt_at`` passed) is claimed with
a conditional UPDATE that moves ``next_attempt_at`` a lease ahead, so one process attempts it;
if that process dies mid-attempt the lease runs out and another one tries again. The POST body
is ``{"type": "message", "payload": <Front's message object>}`` (``message_autoreply`` for a
rule's automatic reply on a partner channel). A 2xx answer delivers the
message (``delivery_status`` sent); anything else (or no answer) is retried after an
exponential backoff, and after the last attempt the message has failed (``delivery_status``
failed, ``error_type`` set, Front's ``sending_error`` event). Rows live in the database, so
delivery goes on after a restart.

The claim, the backoff and the recording of an outcome (``work_due``, ``record``) are shared with
the email worker (``workers/email_out.py``), which sends the email rows through the SMTP relay.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import orjson

from porch.domain import partner_channels as partners
from porch.events import log
from porch.store import channel_api as channel_api_store
from porch.store import channels as channels_store
from porch.store import crud
from porch.store import messages as messages_store
from porch.store import outbox as store
from porch.store.channel_api import Partner
from porch.store.db import Connection, Database
from porch.store.messages import Message
from porch.store.outbox import OutboxRow
from porch.store.tables import messages, outbox
from porch.timeutil import now_ms
from porch.workers import message_payload, partner_calls

logger = logging.getLogger("porch.outbound")

BATCH = 50
TIMEOUT_SECONDS = 5.0
# Front's error_type for a message its channel would not take.
ERROR_TYPE = "delivery_failure"


@dataclass(frozen=True, slots=True)
class Policy:
    """How hard the worker tries: the first retry waits ``backoff`` seconds, each next one
    twice as long (at most ``max_backoff``); after ``max_attempts`` attempts the send fails."""

    backoff: float = 2.0
    max_backoff: float = 600.0
    max_attempts: int = 8
    lease: float = 60.0

    def delay(self, attempts: int) -> float:
        return float(min(self.max_backoff, self.backoff * 2 ** max(0, attempts - 1)))


@dataclass(frozen=True, slots=True)
class Outcome:
    """What one delivery attempt came to: delivered (``error`` None), or not, and then whether
    trying again could help (``permanent``: the message fails now)."""

    error: str | None = None
    permanent: bool = False
    # Writes that belong with the delivery, made in the transaction that records it.
    then: Callable[[Connection], Awaitable[None]] | None = None


# One delivery attempt of a claimed row.
Attempt = Callable[[OutboxRow], Awaitable[Outcome]]


def _call_type(msg: Message | None, partner: Partner | None) -> str:
    """``message_autoreply`` for an automatic reply (a rule's, ``metadata.auto``) on a partner
    channel (NOTES §8), else ``message``."""
    if partner is not None and msg is not None and msg.meta.get("auto") is True:
        return "message_autoreply"
    return "message"


async def _attempt(
    db: Database, client: httpx.AsyncClient, row: OutboxRow, base_url: str
) -> Outcome:
    """One delivery attempt, signed with the channel's key (``domain/partner_channels.py``).
    A partner's ``{"type":"success","external_id","external_conversation_id"}`` reply is
    stored on the message, so the partner's next messages with those ids thread into it."""
    channel = await channels_store.get(db, company_id=row.company_id, key=row.channel_id)
    url = channel.settings.get("webhook_url") if channel is not None else None
    if channel is None or not url:
        return Outcome("the channel has no webhook_url")
    shaped = await message_payload.render(
        db, company_id=row.company_id, message_id=row.message_id, base_url=base_url
    )
    if shaped is None:
        return Outcome("the message no longer exists")
    msg = await messages_store.get(db, company_id=row.company_id, key=row.message_id)
    partner = await channel_api_store.partner(db, company_id=row.company_id, channel_id=channel.id)
    body = orjson.dumps({"type": _call_type(msg, partner), "payload": shaped})
    secret = await partners.signing_secret(db, channel=channel)
    try:
        resp = await client.post(
            str(url), content=body, headers=partners.signed_headers(secret, body)
        )
    except httpx.HTTPError as exc:
        return Outcome(f"{type(exc).__name__}: {exc}"[:500])
    if not 200 <= resp.status_code < 300:
        return Outcome(f"the webhook answered {resp.status_code}")
    ext_id, ext_conv = _external_ids(resp)
    if ext_id is None and ext_conv is None:
        return Outcome()

    async def keep_ids(tx: Connection) -> None:
        values: dict[str, Any] = {}
        if ext_conv is not None:
            values["thread_ref"] = ext_conv
        taken = ext_id is not None and await channel_api_store.message_by_external_id(
            tx, company_id=row.company_id, channel_id=row.channel_id, external_id=ext_id
        )
        if ext_id is not None and not taken:
            values["external_id"] = ext_id
        if values:
            await crud.update(tx, messages, company_id=row.company_id, key=row.message_id, **values)

    return Outcome(then=keep_ids)


def _external_ids(resp: httpx.Response) -> tuple[str | None, str | None]:
    """The external ids of a partner's success reply (a plain 2xx is fine too)."""
    try:
        data = orjson.loads(resp.content)
    except orjson.JSONDecodeError:
        return None, None
    if not isinstance(data, dict):
        return None, None
    found = []
    for name in ("external_id", "external_conversation_id"):
        value = data.get(name)
        found.append(value if isinstance(value, str) and 0 < len(value) <= 200 else None)
    return found[0], found[1]


async def record(db: Database, row: OutboxRow, outcome: Outcome, policy: Policy) -> None:
    """Write the outcome of the attempt the claim counted (row.attempts + 1): delivered, due
    again after the backoff, or failed (after the last attempt, or at once when permanent)."""
    attempts = row.attempts + 1
    now = now_ms()
    cid = row.company_id
    error = outcome.error
    async with db.transaction() as tx:
        if error is None:
            await crud.update(
                tx,
                outbox,
                company_id=cid,
                key=row.id,
                state="delivered",
                last_error=None,
                updated_at=now,
            )
            await crud.update(
                tx, messages, company_id=cid, key=row.message_id, delivery_status="sent"
            )
            if outcome.then is not None:
                await outcome.then(tx)
            return
        if attempts < policy.max_attempts and not outcome.permanent:
            retry_at = now + round(policy.delay(attempts) * 1000)
            await crud.update(
                tx,
                outbox,
                company_id=cid,
                key=row.id,
                last_error=error,
                next_attempt_at=retry_at,
                updated_at=now,
            )
            return
        await crud.update(
            tx, outbox, company_id=cid, key=row.id, state="failed", last_error=error, updated_at=now
        )
        failed = await messages_store.get(tx, company_id=cid, key=row.message_id)
        if row.kind == "custom_webhook" and failed is not None:
            # A partner that never took the message: failed, and the conversation reopened.
            await partners.fail_message(
                tx,
                company_id=cid,
                message_id=failed.id,
                conversation_id=failed.conversation_id,
                error=error,
                source=log.SYSTEM,
            )
            return
        await crud.update(
            tx,
            messages,
            company_id=cid,
            key=row.message_id,
            delivery_status="failed",
            error_type=ERROR_TYPE,
        )
        msg = await messages_store.get(tx, company_id=cid, key=row.message_id)
        await log.append(
            tx,
            company_id=cid,
            type="sending_error",
            source=log.SYSTEM,
            target_type="message",
            target_id=row.message_id,
            conversation_id=msg.conversation_id if msg is not None else None,
            data={"error": error},
        )


async def work_due(db: Database, *, kind: str, policy: Policy, attempt: Attempt) -> int:
    """Claim and attempt every outbox row of ``kind`` due now, recording each outcome; the
    number of attempts made."""
    made = 0
    for _ in range(100):  # bounded: at most 5 000 attempts per call
        now = now_ms()
        due = await store.due(db, kind=kind, now=now, limit=BATCH)
        for row in due:
            async with db.transaction() as tx:
                lease_until = now + round(policy.lease * 1000)
                if not await store.claim(tx, row=row, now=now, lease_until=lease_until):
                    continue
            outcome = await attempt(row)
            if outcome.error is not None:
                logger.info("sending message %s failed: %s", row.message_id, outcome.error)
            await record(db, row, outcome, policy)
            made += 1
        if len(due) < BATCH:
            break
    return made


async def deliver_due(
    db: Database, *, base_url: str, policy: Policy, client: httpx.AsyncClient
) -> int:
    """Attempt every custom-channel outbox row due now; the number of attempts made."""

    async def attempt(row: OutboxRow) -> Outcome:
        return await _attempt(db, client, row, base_url)

    made = await work_due(db, kind="custom_webhook", policy=policy, attempt=attempt)
    return made + await partner_calls.deliver_due(
        db, base_url=base_url, policy=policy, client=client
    )


async def run_outbound(
    db: Database,
    stop_event: asyncio.Event,
    *,
    base_url: str,
    policy: Policy,
    interval: float = 1.0,
) -> None:
    """Deliver due messages every ``interval`` seconds until ``stop_event`` is set; errors are
    logged and the loop goes on."""
    # trust_env off: a proxy from the environment must not see (or swallow) the webhooks.
    client_kw: dict[str, Any] = {"timeout": TIMEOUT_SECONDS, "trust_env": False}
    async with httpx.AsyncClient(**client_kw) as client:
        while not stop_event.is_set():
            try:
                await deliver_due(db, base_url=base_url, policy=policy, client=client)
            except Exception:
                logger.exception("delivering messages failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop_event.wait(), timeout=interval)
