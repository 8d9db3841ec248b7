"""Team rows and the queries that read them."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from porch.store.db import Query, Reader, Row, in_list
from porch.store.tables import teams

t = teams


@dataclass(frozen=True, slots=True)
class Team:
    id: int
    company_id: int
    name: str
    created_at: int

    @classmethod
    def from_row(cls, r: Row) -> Team:
        return cls(r["id"], r["company_id"], r["name"], r["created_at"])


_cid = t.c.company_id == sa.bindparam("company_id")
_BY_KEY = Query(sa.select(t).where(_cid, t.c.id == sa.bindparam("key")))
_ALL = Query(sa.select(t).where(_cid).order_by(t.c.id))
_BY_KEYS = Query(sa.select(t).where(_cid, in_list(t.c.id, "keys")).order_by(t.c.id))
_BY_NAME = Query(sa.select(t).where(_cid, t.c.name == sa.bindparam("name")))
_OLDEST = Query(sa.select(t).where(_cid).order_by(t.c.id).limit(1))


async def get(conn: Reader, *, company_id: int, key: int) -> Team | None:
    row = await conn.fetch_one(_BY_KEY, company_id=company_id, key=key)
    return Team.from_row(row) if row else None


async def all_of(conn: Reader, *, company_id: int) -> list[Team]:
    return [Team.from_row(r) for r in await conn.fetch_all(_ALL, company_id=company_id)]


async def many(conn: Reader, *, company_id: int, keys: list[int]) -> list[Team]:
    if not keys:
        return []
    return [
        Team.from_row(r) for r in await conn.fetch_all(_BY_KEYS, company_id=company_id, keys=keys)
    ]


async def oldest(conn: Reader, *, company_id: int) -> Team | None:
    row = await conn.fetch_one(_OLDEST, company_id=company_id)
    return Team.from_row(row) if row else None


async def by_name(conn: Reader, *, company_id: int, name: str) -> Team | None:
    row = await conn.fetch_one(_BY_NAME, company_id=company_id, name=name)
    return Team.from_row(row) if row else None
