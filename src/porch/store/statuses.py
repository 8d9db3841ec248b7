"""Ticket status rows, and the company's ticketing switch that decides whether they show."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from porch.store.db import Connection, Query, Reader, Row
from porch.store.tables import companies, statuses

t = statuses

CATEGORIES = ("open", "waiting", "resolved")


@dataclass(frozen=True, slots=True)
class Status:
    id: int
    company_id: int
    name: str
    category: str
    description: str | None
    is_default: bool
    created_at: int
    updated_at: int

    @classmethod
    def from_row(cls, r: Row) -> Status:
        return cls(
            r["id"],
            r["company_id"],
            r["name"],
            r["category"],
            r["description"],
            bool(r["is_default"]),
            r["created_at"],
            r["updated_at"],
        )


_cid = t.c.company_id == sa.bindparam("company_id")
_BY_KEY = Query(sa.select(t).where(_cid, t.c.id == sa.bindparam("key")))
_ALL = Query(sa.select(t).where(_cid).order_by(t.c.id))
_TICKETING = Query(
    sa.select(companies.c.ticketing_enabled).where(companies.c.id == sa.bindparam("company_id"))
)


async def get(conn: Reader, *, company_id: int, key: int) -> Status | None:
    row = await conn.fetch_one(_BY_KEY, company_id=company_id, key=key)
    return Status.from_row(row) if row else None


async def all_of(conn: Reader, *, company_id: int) -> list[Status]:
    """Every status of the company, oldest first (the defaults come first)."""
    return [Status.from_row(r) for r in await conn.fetch_all(_ALL, company_id=company_id)]


async def ticketing_enabled(conn: Reader, *, company_id: int) -> bool:
    row = await conn.fetch_one(_TICKETING, company_id=company_id)
    return bool(row["ticketing_enabled"]) if row else False


_TAKE_TICKET = Query(
    sa.update(companies)
    .where(companies.c.id == sa.bindparam("company_id"), companies.c.ticketing_enabled)
    .values(next_ticket_number=companies.c.next_ticket_number + 1)
    .returning(companies.c.next_ticket_number)
)


async def take_ticket_number(tx: Connection, *, company_id: int) -> int | None:
    """The company's next ticket number, taken for good; None while ticketing is off.

    One UPDATE both reads and bumps the counter, so concurrent writers (PostgreSQL) queue on
    the company row instead of racing to the same number.
    """
    row = await tx.fetch_one(_TAKE_TICKET, company_id=company_id)
    return int(row["next_ticket_number"]) - 1 if row else None
