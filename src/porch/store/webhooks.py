"""Webhook subscriptions, the delivery outbox and its attempt log (tables in migration 0016).

Deliveries are read across companies by the worker (it acts for nobody in particular) and
claimed with a conditional UPDATE; everything an admin reads is bound to a company.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql as pg
from sqlalchemy.dialects import sqlite as sq

from porch.store.db import Connection, Query, Reader, Row, in_list
from porch.store.tables import (
    applications,
    companies,
    company_secrets,
    webhook_attempts,
    webhook_deliveries,
    webhook_subscriptions,
)

s = webhook_subscriptions
# The company_secrets purpose of the API secret rule webhooks are signed with.
API_SECRET = "api_secret"  # noqa: S105 (a purpose name, not a secret)
d = webhook_deliveries
a = webhook_attempts


@dataclass(frozen=True, slots=True)
class Subscription:
    id: int
    company_id: int
    kind: str
    application_id: int | None
    rule_id: int | None
    url: str
    state: str
    disabled_reason: str | None
    failures: int
    created_at: int
    updated_at: int

    @classmethod
    def from_row(cls, r: Row) -> Subscription:
        return cls(*(r[c.name] for c in s.c))


@dataclass(frozen=True, slots=True)
class Delivery:
    id: int
    company_id: int
    subscription_id: int
    event_id: int
    conversation_id: int | None
    type: str
    body: str
    state: str
    attempts: int
    next_attempt_at: int
    last_status: int | None
    last_error: str | None
    emitted_at: int
    created_at: int
    updated_at: int
    delivered_at: int | None

    @classmethod
    def from_row(cls, r: Row) -> Delivery:
        return cls(*(r[c.name] for c in d.c))


@dataclass(frozen=True, slots=True)
class Attempt:
    id: int
    company_id: int
    delivery_id: int
    status_code: int | None
    duration_ms: int
    error: str | None
    attempted_at: int

    @classmethod
    def from_row(cls, r: Row) -> Attempt:
        return cls(*(r[c.name] for c in a.c))


# --- Subscriptions ---------------------------------------------------------------------------

_SUB_VALUES: dict[str, sa.BindParameter[object]] = {
    "company_id": sa.bindparam("company_id"),
    "kind": sa.bindparam("kind"),
    "application_id": sa.bindparam("application_id"),
    "rule_id": sa.bindparam("rule_id"),
    "url": sa.bindparam("url"),
    "state": sa.bindparam("state"),
    "failures": sa.bindparam("failures"),
    "created_at": sa.bindparam("now"),
    "updated_at": sa.bindparam("now"),
}
_ENSURE_RULE_SUB = Query(
    sq.insert(s).values(**_SUB_VALUES).on_conflict_do_nothing(),
    postgresql=pg.insert(s).values(**_SUB_VALUES).on_conflict_do_nothing(),
)
_RULE_SUB = Query(
    sa.select(s).where(
        s.c.company_id == sa.bindparam("company_id"),
        s.c.rule_id == sa.bindparam("rule_id"),
        s.c.url == sa.bindparam("url"),
    )
)
_APP_SUB = Query(
    sa.select(s).where(
        s.c.company_id == sa.bindparam("company_id"),
        s.c.application_id == sa.bindparam("application_id"),
    )
)
_SUB = Query(
    sa.select(s).where(s.c.company_id == sa.bindparam("company_id"), s.c.id == sa.bindparam("key"))
)
_SUBS_OF_COMPANIES = Query(sa.select(s).where(in_list(s.c.company_id, "company_ids")))
_SUBS = Query(sa.select(s).where(s.c.company_id == sa.bindparam("company_id")).order_by(s.c.id))


async def rule_subscription(
    tx: Connection, *, company_id: int, rule_id: int, url: str, now: int
) -> Subscription:
    """The subscription of a rule's webhook action to ``url``, made on first use."""
    await tx.execute(
        _ENSURE_RULE_SUB,
        company_id=company_id,
        kind="rule",
        application_id=None,
        rule_id=rule_id,
        url=url,
        state="enabled",
        failures=0,
        now=now,
    )
    row = await tx.fetch_one(_RULE_SUB, company_id=company_id, rule_id=rule_id, url=url)
    assert row is not None
    return Subscription.from_row(row)


async def app_subscription(
    conn: Reader, *, company_id: int, application_id: int
) -> Subscription | None:
    row = await conn.fetch_one(_APP_SUB, company_id=company_id, application_id=application_id)
    return Subscription.from_row(row) if row else None


async def insert_app_subscription(
    tx: Connection, *, company_id: int, application_id: int, url: str, state: str, now: int
) -> None:
    await tx.execute(
        _ENSURE_RULE_SUB,
        company_id=company_id,
        kind="application",
        application_id=application_id,
        rule_id=None,
        url=url,
        state=state,
        failures=0,
        now=now,
    )


async def get_subscription(conn: Reader, *, company_id: int, key: int) -> Subscription | None:
    row = await conn.fetch_one(_SUB, company_id=company_id, key=key)
    return Subscription.from_row(row) if row else None


async def subscriptions(conn: Reader, *, company_id: int) -> list[Subscription]:
    return [Subscription.from_row(r) for r in await conn.fetch_all(_SUBS, company_id=company_id)]


async def subscriptions_of(conn: Reader, *, company_ids: list[int]) -> list[Subscription]:
    rows = await conn.fetch_all(_SUBS_OF_COMPANIES, company_ids=company_ids)
    return [Subscription.from_row(r) for r in rows]


# --- Deliveries --------------------------------------------------------------------------------

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
_CLAIM = Query(
    sa.update(d)
    .where(
        in_list(d.c.id, "keys"),
        d.c.state == "pending",
        d.c.next_attempt_at <= sa.bindparam("now"),
    )
    .values(
        next_attempt_at=sa.bindparam("lease_until"),
        attempts=d.c.attempts + 1,
        updated_at=sa.bindparam("now"),
    )
    .returning(d.c.id, d.c.attempts)
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
_DELIVERED = Query(
    sa.update(d)
    .where(
        d.c.id == sa.bindparam("key"),
        d.c.state == "pending",
        d.c.attempts == sa.bindparam("attempts"),
    )
    .values(
        state="delivered",
        last_status=sa.bindparam("status"),
        last_error=sa.null(),
        delivered_at=sa.bindparam("now"),
        updated_at=sa.bindparam("now"),
    )
)
_FAILED = Query(
    sa.update(d)
    .where(
        d.c.id == sa.bindparam("key"),
        d.c.state == "pending",
        d.c.attempts == sa.bindparam("attempts"),
    )
    .values(
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


_APP_OF_SUB = Query(
    sa.select(s.c.application_id, s.c.state, s.c.disabled_reason).where(
        s.c.id == sa.bindparam("key")
    )
)
_APP_STATE = Query(
    sa.update(applications)
    .where(applications.c.id == sa.bindparam("key"))
    .values(
        state=sa.bindparam("state"),
        disabled_reason=sa.bindparam("reason"),
        updated_at=sa.bindparam("now"),
    )
)


async def sync_application_state(tx: Connection, *, subscription_id: int, now: int) -> None:
    """Give an application the state (and reason) of its webhook subscription."""
    row = await tx.fetch_one(_APP_OF_SUB, key=subscription_id)
    if row is None or row["application_id"] is None:
        return
    await tx.execute(
        _APP_STATE,
        key=row["application_id"],
        state=row["state"],
        reason=row["disabled_reason"],
        now=now,
    )


_SET_SUB = Query(
    sa.update(s)
    .where(s.c.id == sa.bindparam("key"))
    .values(
        url=sa.bindparam("url"),
        state=sa.bindparam("state"),
        disabled_reason=sa.bindparam("reason"),
        failures=sa.bindparam("failures"),
        updated_at=sa.bindparam("now"),
    )
)
# Enabling a subscription resumes its pending deliveries now.
_RESUME = Query(
    sa.update(d)
    .where(d.c.subscription_id == sa.bindparam("key"), d.c.state == "pending")
    .values(next_attempt_at=sa.bindparam("now"), updated_at=sa.bindparam("now"))
)


async def set_subscription(
    tx: Connection,
    *,
    sub: Subscription,
    url: str | None = None,
    state: str | None = None,
    reason: str | None = None,
    now: int,
) -> None:
    """Change a subscription's URL and/or state; enabling it clears its failures and makes its
    pending deliveries due now."""
    new_state = state or sub.state
    enabling = state == "enabled"
    await tx.execute(
        _SET_SUB,
        key=sub.id,
        url=sub.url if url is None else url,
        state=new_state,
        reason=None if new_state == "enabled" else (reason or sub.disabled_reason),
        failures=0 if enabling else sub.failures,
        now=now,
    )
    if enabling:
        await tx.execute(_RESUME, key=sub.id, now=now)
    if sub.application_id is not None and state is not None:
        await sync_application_state(tx, subscription_id=sub.id, now=now)


_DEL_ATTEMPTS_OF_SUB = Query(
    sa.delete(a).where(
        a.c.delivery_id.in_(sa.select(d.c.id).where(d.c.subscription_id == sa.bindparam("key")))
    )
)
_DEL_DELIVERIES_OF_SUB = Query(sa.delete(d).where(d.c.subscription_id == sa.bindparam("key")))
_DEL_SUB = Query(sa.delete(s).where(s.c.id == sa.bindparam("key")))


async def delete_app_subscription(tx: Connection, *, company_id: int, application_id: int) -> None:
    """Delete an application's subscription with its deliveries and their attempts."""
    sub = await app_subscription(tx, company_id=company_id, application_id=application_id)
    if sub is None:
        return
    await tx.execute(_DEL_ATTEMPTS_OF_SUB, key=sub.id)
    await tx.execute(_DEL_DELIVERIES_OF_SUB, key=sub.id)
    await tx.execute(_DEL_SUB, key=sub.id)


# --- Admin reads and replays ------------------------------------------------------------------

_DELIVERY = Query(
    sa.select(d).where(d.c.company_id == sa.bindparam("company_id"), d.c.id == sa.bindparam("key"))
)
_flag = sa.bindparam
_LIST = Query(
    sa.select(d)
    .where(
        d.c.company_id == sa.bindparam("company_id"),
        sa.or_(~_flag("by_sub", type_=sa.Boolean), d.c.subscription_id == sa.bindparam("sub")),
        sa.or_(~_flag("by_state", type_=sa.Boolean), d.c.state == sa.bindparam("state")),
        d.c.id < sa.bindparam("before", type_=sa.BigInteger),
    )
    .order_by(d.c.id.desc())
    .limit(sa.bindparam("limit"))
)
_ATTEMPTS = Query(sa.select(a).where(in_list(a.c.delivery_id, "keys")).order_by(a.c.id))


async def get_delivery(conn: Reader, *, company_id: int, key: int) -> Delivery | None:
    row = await conn.fetch_one(_DELIVERY, company_id=company_id, key=key)
    return Delivery.from_row(row) if row else None


async def list_deliveries(
    conn: Reader,
    *,
    company_id: int,
    subscription_id: int | None,
    state: str | None,
    before: int | None,
    limit: int,
) -> list[Delivery]:
    """A page of the company's deliveries, newest first."""
    rows = await conn.fetch_all(
        _LIST,
        company_id=company_id,
        by_sub=subscription_id is not None,
        sub=subscription_id or 0,
        by_state=state is not None,
        state=state or "",
        before=before if before is not None else 2**62,
        limit=limit,
    )
    return [Delivery.from_row(r) for r in rows]


async def attempts_of(conn: Reader, *, keys: list[int]) -> dict[int, list[Attempt]]:
    out: dict[int, list[Attempt]] = {k: [] for k in keys}
    if keys:
        for r in await conn.fetch_all(_ATTEMPTS, keys=keys):
            out[r["delivery_id"]].append(Attempt.from_row(r))
    return out


_REPLAY_ONE = Query(
    sa.update(d)
    .where(d.c.company_id == sa.bindparam("company_id"), d.c.id == sa.bindparam("key"))
    .values(
        state="pending",
        next_attempt_at=sa.bindparam("now"),
        created_at=sa.bindparam("now"),
        updated_at=sa.bindparam("now"),
    )
)
_REPLAY_MANY = Query(
    sa.update(d)
    .where(
        d.c.company_id == sa.bindparam("company_id"),
        d.c.subscription_id == sa.bindparam("sub"),
        sa.or_(~_flag("only_failed", type_=sa.Boolean), d.c.state == "failed"),
        d.c.state != "pending",
        d.c.emitted_at >= sa.bindparam("since"),
        d.c.emitted_at < sa.bindparam("until"),
    )
    .values(
        state="pending",
        next_attempt_at=sa.bindparam("now"),
        created_at=sa.bindparam("now"),
        updated_at=sa.bindparam("now"),
    )
)


async def replay(tx: Connection, *, company_id: int, key: int, now: int) -> bool:
    """Send one delivery again (due now; retried again for the full max age)."""
    return await tx.execute(_REPLAY_ONE, company_id=company_id, key=key, now=now) == 1


async def replay_many(
    tx: Connection,
    *,
    company_id: int,
    subscription_id: int,
    only_failed: bool,
    since: int,
    until: int,
    now: int,
) -> int:
    """Send again the subscription's finished deliveries of events emitted in [since, until)
    (only the failed ones if ``only_failed``); the number queued."""
    return await tx.execute(
        _REPLAY_MANY,
        company_id=company_id,
        sub=subscription_id,
        only_failed=only_failed,
        since=since,
        until=until,
        now=now,
    )


_ROTATE = Query(
    sa.update(company_secrets)
    .where(
        company_secrets.c.company_id == sa.bindparam("company_id"),
        company_secrets.c.purpose == API_SECRET,
    )
    .values(secret=sa.bindparam("secret"), created_at=sa.bindparam("now"))
)


async def rotate_api_secret(tx: Connection, *, company_id: int, secret: str, now: int) -> None:
    await tx.execute(_ROTATE, company_id=company_id, secret=secret, now=now)
