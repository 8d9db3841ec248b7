"""Queueing webhook deliveries: rule webhooks (called by the rules engine inside its
transaction) and application webhooks (the fan-out consumer of the event log).

Queueing is idempotent: a delivery is unique per (subscription, event).
"""

from __future__ import annotations

from collections import defaultdict

import orjson
import sqlalchemy as sa

from porch.domain.errors import BadRequest
from porch.events.webhooks import render
from porch.store import secrets
from porch.store.db import Connection, Query, Reader, Row, in_list
from porch.store.events import Event
from porch.store.tables import applications, conversation_inboxes, events, inboxes
from porch.store.webhooks import outbox
from porch.store.webhooks import subscriptions as subs_store
from porch.timeutil import now_ms

_EVENT = Query(
    sa.select(events).where(
        events.c.id == sa.bindparam("key"), events.c.company_id == sa.bindparam("company_id")
    )
)


async def enqueue_rule_webhook(
    tx: Connection, *, company_id: int, rule_id: int, url: str, event_id: int, preview: bool
) -> None:
    """Queue a rule's webhook of event ``event_id`` to ``url`` on ``tx`` (the transaction that
    records the rule's run): the full event in Front's shape, or its preview. The delivery
    worker POSTs it with ``X-Front-Signature`` (HMAC-SHA1 keyed by the company's API secret)
    and retries it like an application webhook. Queueing the same (rule, url, event) again
    does nothing. Raises BadRequest when the event is not the company's."""
    row = await tx.fetch_one(_EVENT, key=event_id, company_id=company_id)
    if row is None:
        raise BadRequest(f"No event {event_id} in this company")
    ev = Event.from_row(row)
    now = now_ms()
    # Rule webhooks are signed with the company's API secret: made here on first use.
    await secrets.get_or_make(tx, company_id=company_id, purpose=subs_store.API_SECRET, now=now)
    sub = await subs_store.rule_subscription(
        tx, company_id=company_id, rule_id=rule_id, url=url, now=now
    )
    full = await render.full_events(tx, company_id=company_id, events=[ev], private=True)
    body = full[ev.id]
    if preview:
        body = render.preview(body)
    await outbox.queue(
        tx,
        [
            outbox.NewDelivery(
                company_id=company_id,
                subscription_id=sub.id,
                event_id=ev.id,
                conversation_id=ev.conversation_id,
                type=ev.type,
                body=orjson.dumps(body).decode(),
                emitted_at=ev.emitted_at,
            )
        ],
        now=now,
    )
    wake()


# --- Application webhooks ------------------------------------------------------------------

_APPS = Query(
    sa.select(applications.c.id, applications.c.company_id, applications.c.subscriptions).where(
        in_list(applications.c.company_id, "company_ids"),
        applications.c.webhook_url.is_not(None),
    )
)
# The conversations of a batch that are in at least one shared (team) inbox.
_SHARED = Query(
    sa.select(conversation_inboxes.c.conversation_id)
    .distinct()
    .join(inboxes, inboxes.c.id == conversation_inboxes.c.inbox_id)
    .where(
        in_list(conversation_inboxes.c.conversation_id, "keys"),
        inboxes.c.team_id.is_not(None),
    )
)


class AppWebhooks:
    """The event-log consumer that queues application webhooks: for each event of a type an
    enabled app subscribes to, on a conversation in a shared inbox, one delivery per app.

    Runs in the runner's transaction, so a batch's deliveries and the new position commit
    together (re-reading a batch after a crash queues nothing twice anyway)."""

    name = "webhooks"

    async def apply(self, tx: Connection, events: list[Row]) -> None:
        evs = [Event.from_row(r) for r in events]
        wanted = [e for e in evs if e.type in render.APP_NAME_OF and e.conversation_id]
        if not wanted:
            return
        company_ids = sorted({e.company_id for e in wanted})
        apps_rows = await tx.fetch_all(_APPS, company_ids=company_ids)
        if not apps_rows:
            return
        subs = {
            sub.application_id: sub
            for sub in await subs_store.subscriptions_of(tx, company_ids=company_ids)
            if sub.kind == "application"
        }
        # company -> [(subscription id, set of app event names)]
        targets: dict[int, list[tuple[int, set[str]]]] = defaultdict(list)
        for r in apps_rows:
            sub = subs.get(r["id"])
            if sub is None:  # disabled subscriptions still queue: they resume when enabled
                continue
            names = set(orjson.loads(r["subscriptions"]))
            if names:
                targets[r["company_id"]].append((sub.id, names))
        wanted = [e for e in wanted if targets.get(e.company_id)]
        if not wanted:
            return
        shared = await _shared(tx, sorted({e.conversation_id for e in wanted if e.conversation_id}))
        now = now_ms()
        rows: list[outbox.NewDelivery] = []
        by_company: dict[int, list[Event]] = defaultdict(list)
        for e in wanted:
            if e.conversation_id in shared:
                by_company[e.company_id].append(e)
        for company_id, evs_of in by_company.items():
            rendered = await render.full_events(
                tx, company_id=company_id, events=evs_of, private=False
            )
            for e in evs_of:
                name = render.APP_NAME_OF[e.type]
                body: bytes | None = None
                for sub_id, names in targets[company_id]:
                    if name not in names:
                        continue
                    if body is None:
                        body = orjson.dumps(render.envelope(name, company_id, rendered[e.id]))
                    rows.append(
                        outbox.NewDelivery(
                            company_id=company_id,
                            subscription_id=sub_id,
                            event_id=e.id,
                            conversation_id=e.conversation_id,
                            type=name,
                            body=body.decode(),
                            emitted_at=e.emitted_at,
                        )
                    )
        if rows:
            await outbox.queue(tx, rows, now=now)
            wake()


async def _shared(conn: Reader, keys: list[int]) -> set[int]:
    if not keys:
        return set()
    return {int(r["conversation_id"]) for r in await conn.fetch_all(_SHARED, keys=keys)}


# --- Waking the delivery workers of this process ---------------------------------------------


def wake() -> None:
    """New deliveries are being queued: the delivery workers of this process look shortly
    (after the queueing transaction has had time to commit) rather than at their next poll."""
    from porch.workers import webhooks as worker  # the worker imports this package

    worker.wake_soon()
