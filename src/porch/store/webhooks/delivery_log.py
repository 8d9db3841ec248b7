"""The webhook delivery log an admin reads (deliveries and their attempts, bound to a
company), and replays of finished deliveries (tables in migration 0016).
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from porch.store.db import Connection, Query, Reader, Row, in_list
from porch.store.tables import webhook_attempts, webhook_deliveries

d = webhook_deliveries
a = webhook_attempts


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
