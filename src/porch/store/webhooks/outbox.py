"""The webhook outbox: deliveries queued, then the worker's side of them (due, claimed with
a lease, outcomes recorded and counted against their subscriptions) (tables in migration 0016).

Deliveries are read across companies by the worker (it acts for nobody in particular) and
claimed with a conditional UPDATE.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql as pg
from sqlalchemy.dialects import sqlite as sq

from porch.store.db import Connection, Query, Reader, in_list
from porch.store.tables import (
    applications,
    companies,
    company_secrets,
    webhook_attempts,
    webhook_deliveries,
    webhook_subscriptions,
)
from porch.store.webhooks.subscriptions import API_SECRET

s = webhook_subscriptions
d = webhook_deliveries
a = webhook_attempts


# --- Queueing ----------------------------------------------------------------------------------

_DEL_VALUES: dict[str, sa.BindParameter[object]] = {
    "company_id": sa.bindparam("company_id"),
    "subscription_id": sa.bindparam("subscription_id"),
    "event_id": sa.bindparam("event_id"),
    "conversation_id": sa.bindparam("conversation_id"),
    "type": sa.bindparam("type"),
    "body": sa.bindparam("body"),
    "state": sa.literal("pending"),
    "attempts": sa.literal(0),
    "next_attempt_at": sa.bindparam("now"),
    "emitted_at": sa.bindparam("emitted_at"),
    "created_at": sa.bindparam("now"),
    "updated_at": sa.bindparam("now"),
}
# A re-read batch of the event log (or a rule run again) queues nothing twice.
_QUEUE = Query(
    sq.insert(d).values(**_DEL_VALUES).on_conflict_do_nothing(),
    postgresql=pg.insert(d).values(**_DEL_VALUES).on_conflict_do_nothing(),
)


@dataclass(frozen=True, slots=True)
class NewDelivery:
    company_id: int
    subscription_id: int
    event_id: int
    conversation_id: int | None
    type: str
    body: str
    emitted_at: int


async def queue(tx: Connection, rows: list[NewDelivery], *, now: int) -> None:
    """Queue ``rows`` (those already queued are left as they are)."""
    await tx.execute_many(
        _QUEUE,
        [
            {
                "company_id": r.company_id,
                "subscription_id": r.subscription_id,
                "event_id": r.event_id,
                "conversation_id": r.conversation_id,
                "type": r.type,
                "body": r.body,
                "emitted_at": r.emitted_at,
                "now": now,
            }
            for r in rows
        ],
    )


# --- The worker's side --------------------------------------------------------------------------

_earlier = d.alias("earlier")
_app = applications
_cs = company_secrets
_DUE = Query(
    sa.select(
        d.c.id,
        d.c.company_id,
        d.c.subscription_id,
        d.c.event_id,
        d.c.conversation_id,
        d.c.body,
        d.c.attempts,
        d.c.next_attempt_at,
        d.c.emitted_at,
        d.c.created_at,
        s.c.kind,
        s.c.url,
        _app.c.secret.label("app_secret"),
        _cs.c.secret.label("api_secret"),
        companies.c.allow_private_webhook_targets.label("allow_private"),
    )
    .select_from(
        d.join(s, sa.and_(s.c.id == d.c.subscription_id, s.c.state == "enabled"))
        .join(companies, companies.c.id == d.c.company_id)
        .outerjoin(_app, _app.c.id == s.c.application_id)
        .outerjoin(_cs, sa.and_(_cs.c.company_id == d.c.company_id, _cs.c.purpose == API_SECRET))
    )
    .where(
        d.c.state == "pending",
        d.c.next_attempt_at <= sa.bindparam("now"),
        # Per subscription and conversation, only the oldest pending row is attempted.
        ~sa.exists(
            sa.select(_earlier.c.id).where(
                _earlier.c.subscription_id == d.c.subscription_id,
                _earlier.c.conversation_id == d.c.conversation_id,
                _earlier.c.state == "pending",
                _earlier.c.id < d.c.id,
            )
        ),
    )
    .order_by(d.c.next_attempt_at, d.c.id)
    .limit(sa.bindparam("limit"))
)


# The claim: only rows still due are taken (a row another process took has its lease, a time
# to come, as next_attempt_at; a delivered or failed row is no longer pending). The new
# next_attempt_at is the lease, after which another process may try again; the attempt count
# returned is the one the outcome is written against.
def _claim(state: sa.ColumnElement[str], due_at: sa.ColumnElement[int]) -> sa.Update:
    return (
        sa.update(d)
        .where(
            in_list(d.c.id, "keys"),
            state == sa.bindparam("pending", "pending"),
            due_at <= sa.bindparam("now"),
        )
        .values(
            next_attempt_at=sa.bindparam("lease_until"),
            attempts=d.c.attempts + 1,
            updated_at=sa.bindparam("now"),
        )
        .returning(d.c.id, d.c.attempts)
    )


# SQLite's planner took the (state, next_attempt_at) index for the claim — during a burst every
# queued row is pending and due, so each claim of 64 walked all of them — instead of the 64 keys;
# a unary + keeps a column's terms off the indexes (SQLite's documented way).
_CLAIM = Query(
    _claim(d.c.state, d.c.next_attempt_at),
    sqlite=_claim(
        sa.literal_column("+webhook_deliveries.state", sa.String),
        sa.literal_column("+webhook_deliveries.next_attempt_at", sa.BigInteger),
    ),
)


@dataclass(frozen=True, slots=True)
class Due:
    """A delivery due now, with what sending it needs."""

    id: int
    company_id: int
    subscription_id: int
    event_id: int
    conversation_id: int | None
    body: str
    attempts: int
    next_attempt_at: int
    emitted_at: int
    created_at: int
    kind: str
    url: str
    app_secret: str | None
    api_secret: str | None
    allow_private: bool


async def due(conn: Reader, *, now: int, limit: int) -> list[Due]:
    """Deliveries due at ``now`` that no earlier pending delivery of the same subscription and
    conversation holds back, of enabled subscriptions, oldest first."""
    rows = await conn.fetch_all(_DUE, now=now, limit=limit)
    names = [f for f in Due.__dataclass_fields__ if f != "allow_private"]
    return [Due(**{n: r[n] for n in names}, allow_private=bool(r["allow_private"])) for r in rows]


async def claim(tx: Connection, *, rows: list[Due], now: int, lease_until: int) -> list[Due]:
    """Take those of ``rows`` still due for one attempt until ``lease_until`` (the others
    another process took meanwhile), with their attempt counts as of before this one."""
    taken = {
        int(r["id"]): int(r["attempts"]) - 1
        for r in await tx.fetch_all(
            _CLAIM, keys=[row.id for row in rows], now=now, lease_until=lease_until
        )
    }
    return [replace(row, attempts=taken[row.id]) for row in rows if row.id in taken]


_ATTEMPT = Query(
    sa.insert(a).values(
        company_id=sa.bindparam("company_id"),
        delivery_id=sa.bindparam("delivery_id"),
        status_code=sa.bindparam("status_code"),
        duration_ms=sa.bindparam("duration_ms"),
        error=sa.bindparam("error"),
        attempted_at=sa.bindparam("at"),
    )
)
# An outcome is written only by the process that made the attempt the row counts (a process
# whose lease ran out meanwhile leaves the row to the one that took it over).
_OURS = sa.update(d).where(
    d.c.id == sa.bindparam("key"),
    d.c.state == "pending",
    d.c.attempts == sa.bindparam("attempts"),
)
_DELIVERED = Query(
    _OURS.values(
        state="delivered",
        last_status=sa.bindparam("status"),
        last_error=sa.null(),
        delivered_at=sa.bindparam("now"),
        updated_at=sa.bindparam("now"),
    )
)
_FAILED = Query(
    _OURS.values(
        state=sa.bindparam("state"),
        last_status=sa.bindparam("status"),
        last_error=sa.bindparam("error"),
        next_attempt_at=sa.bindparam("retry_at"),
        updated_at=sa.bindparam("now"),
    )
)
_SUB_RESULT = Query(
    sa.update(s)
    .where(s.c.id == sa.bindparam("key"))
    .values(
        failures=sa.case(
            (sa.bindparam("reset", type_=sa.Boolean), sa.bindparam("failed")),
            else_=s.c.failures + sa.bindparam("failed"),
        ),
        updated_at=sa.bindparam("now"),
    )
)
_AUTO_DISABLE = Query(
    sa.update(s)
    .where(
        s.c.id == sa.bindparam("key"),
        s.c.state == "enabled",
        s.c.failures >= sa.bindparam("threshold"),
    )
    .values(
        state="disabled",
        disabled_reason=sa.bindparam("reason"),
        updated_at=sa.bindparam("now"),
    )
)


@dataclass(frozen=True, slots=True)
class Outcome:
    """An attempt's outcome: delivered (``error`` None), due again at ``retry_at``, or failed
    for good (``retry_at`` None)."""

    row: Due
    status: int | None
    duration_ms: int
    error: str | None
    retry_at: int | None


async def record_attempts(tx: Connection, outcomes: list[Outcome], *, now: int) -> None:
    """Log the attempts the claims counted and write their outcomes."""
    await tx.execute_many(
        _ATTEMPT,
        [
            {
                "company_id": o.row.company_id,
                "delivery_id": o.row.id,
                "status_code": o.status,
                "duration_ms": o.duration_ms,
                "error": o.error,
                "at": now,
            }
            for o in outcomes
        ],
    )
    await tx.execute_many(
        _DELIVERED,
        [
            {"key": o.row.id, "attempts": o.row.attempts + 1, "status": o.status, "now": now}
            for o in outcomes
            if o.error is None
        ],
    )
    await tx.execute_many(
        _FAILED,
        [
            {
                "key": o.row.id,
                "attempts": o.row.attempts + 1,
                "state": "pending" if o.retry_at is not None else "failed",
                "status": o.status,
                "error": o.error,
                "retry_at": o.retry_at if o.retry_at is not None else now,
                "now": now,
            }
            for o in outcomes
            if o.error is not None
        ],
    )


async def record_subscription(
    tx: Connection,
    *,
    key: int,
    reset: bool,
    failed: int,
    threshold: int,
    reason: str,
    now: int,
) -> bool:
    """Count a subscription's results (``reset``: a delivery succeeded, then ``failed`` more
    failed); disable it once the failures in a row reach ``threshold``. True if this disabled
    it."""
    await tx.execute(_SUB_RESULT, key=key, reset=reset, failed=failed, now=now)
    if failed == 0:
        return False
    n = await tx.execute(_AUTO_DISABLE, key=key, threshold=threshold, reason=reason, now=now)
    return n == 1
