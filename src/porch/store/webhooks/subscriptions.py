"""Webhook subscriptions: a rule's or an application's URL, its state and failures in a row,
and the company API secret rule webhooks are signed with (tables in migration 0016).

Everything here is bound to a company, except the writes keyed by a subscription's id.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql as pg
from sqlalchemy.dialects import sqlite as sq

from porch.store.db import Connection, Query, Reader, Row, in_list
from porch.store.tables import (
    applications,
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
