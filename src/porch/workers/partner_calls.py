"""Partner calls about a channel (``authorization``, ``delete``, ``message_imported``): the rows of
``partner_deliveries``, attempted by the outbound worker's loop (``workers/outbound.py``) with
its claim-by-lease and backoff policy, and signed as Front signs them
(``domain/partner_channels.py``).

``authorization`` is POSTed to the app's channel base URL; a 2xx reply delivers it and its
``webhook_url`` becomes the channel's. ``delete`` is an HTTP DELETE without a body to the
channel's webhook_url. ``message_imported`` is POSTed there too, its ``payload`` (queued as the
message's id) rendered as the whole message at each attempt; the partner answers 200 ``{}``.
A row that fails its last attempt stays ``failed`` with the error.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import httpx
import orjson

from porch.domain import partner_channels as partners
from porch.domain.channels import check_webhook_url
from porch.domain.errors import BadRequest
from porch.store import channel_api as store
from porch.store import channels as channels_store
from porch.store import crud
from porch.store.channel_api import DeliveryRow
from porch.store.db import Database
from porch.store.tables import partner_deliveries
from porch.timeutil import now_ms
from porch.workers import message_payload

if TYPE_CHECKING:
    from porch.workers.outbound import Policy

BATCH = 50


def _webhook_url(resp: httpx.Response) -> str | None:
    try:
        data = orjson.loads(resp.content)
        url = data.get("webhook_url") if isinstance(data, dict) else None
        return check_webhook_url(url) if isinstance(url, str) else None
    except (orjson.JSONDecodeError, BadRequest):
        return None


async def _body(db: Database, row: DeliveryRow, base_url: str) -> bytes | None:
    """What the call sends: nothing for ``delete``, the queued body for ``authorization``, and
    for ``message_imported`` the queued body with the whole message as its payload."""
    if row.kind == "delete":
        return None
    if row.kind != "message_imported":
        return row.body.encode()
    key = partners.imported_message_ref(row.body)
    shaped = None
    if key is not None:
        shaped = await message_payload.render(
            db, company_id=row.company_id, message_id=key, base_url=base_url
        )
    if shaped is None:
        raise _Gone("the imported message no longer exists")
    return orjson.dumps({**orjson.loads(row.body), "payload": shaped})


class _Gone(Exception):
    """What the call is about no longer exists: it cannot be made."""


async def _attempt(
    db: Database, client: httpx.AsyncClient, row: DeliveryRow, base_url: str
) -> tuple[str | None, str | None]:
    """One attempt: (error or None, the webhook_url an authorization reply named)."""
    partner = await store.partner(db, company_id=row.company_id, channel_id=row.channel_id)
    if partner is None:
        return "the channel is no partner channel", None
    try:
        body = await _body(db, row, base_url)
    except _Gone as exc:
        return str(exc), None
    headers = partners.signed_headers(partner.secret, body)
    try:
        if body is None:
            resp = await client.delete(row.url, headers=headers)
        else:
            resp = await client.post(row.url, content=body, headers=headers)
    except httpx.HTTPError as exc:
        return f"{type(exc).__name__}: {exc}"[:500], None
    if not 200 <= resp.status_code < 300:
        return f"the partner answered {resp.status_code}", None
    return None, _webhook_url(resp) if row.kind == "authorization" else None


async def _record(
    db: Database, row: DeliveryRow, error: str | None, url: str | None, policy: Policy
) -> None:
    now = now_ms()
    attempts = row.attempts + 1
    async with db.transaction() as tx:
        if error is None:
            await crud.update(
                tx,
                partner_deliveries,
                company_id=row.company_id,
                key=row.id,
                state="delivered",
                last_error=None,
                updated_at=now,
            )
            channel = await channels_store.get(tx, company_id=row.company_id, key=row.channel_id)
            if row.kind == "authorization" and channel is not None:
                await partners.authorized(
                    tx, company_id=row.company_id, channel=channel, webhook_url=url
                )
            return
        if attempts < policy.max_attempts:
            await crud.update(
                tx,
                partner_deliveries,
                company_id=row.company_id,
                key=row.id,
                last_error=error,
                updated_at=now,
                next_attempt_at=now + round(policy.delay(attempts) * 1000),
            )
            return
        await crud.update(
            tx,
            partner_deliveries,
            company_id=row.company_id,
            key=row.id,
            state="failed",
            last_error=error,
            updated_at=now,
        )


async def deliver_due(
    db: Database, *, base_url: str, policy: Policy, client: httpx.AsyncClient
) -> int:
    """Attempt every partner call due now; the number of attempts made."""
    made = 0
    for _ in range(100):  # bounded: at most 5 000 attempts per call
        now = now_ms()
        due = await store.due_deliveries(db, now=now, limit=BATCH)
        for row in due:
            async with db.transaction() as tx:
                lease_until = now + round(policy.lease * 1000)
                if not await store.claim_delivery(tx, row=row, now=now, lease_until=lease_until):
                    continue
            error, url = await _attempt(db, client, row, base_url)
            await _record(db, row, error, url, policy)
            made += 1
        if len(due) < BATCH:
            break
    return made
