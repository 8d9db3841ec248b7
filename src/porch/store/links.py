"""Link rows (Front's "topics": external resources conversations are linked to)."""

from __future__ import annotations

from typing import NamedTuple

import sqlalchemy as sa

from porch.store.db import Query, Reader, Row
from porch.store.tables import links

t = links


class Link(NamedTuple):
    id: int
    company_id: int
    name: str
    type: str
    external_url: str
    custom_fields: str
    created_at: int
    updated_at: int

    @classmethod
    def from_row(cls, r: Row) -> Link:
        return cls(*(r[c.name] for c in t.c))


_cid = t.c.company_id == sa.bindparam("company_id")
_BY_KEY = Query(sa.select(t).where(_cid, t.c.id == sa.bindparam("key")))
_BY_URL = Query(sa.select(t).where(_cid, t.c.external_url == sa.bindparam("url")))


async def get(conn: Reader, *, company_id: int, key: int) -> Link | None:
    row = await conn.fetch_one(_BY_KEY, company_id=company_id, key=key)
    return Link.from_row(row) if row else None


async def by_url(conn: Reader, *, company_id: int, url: str) -> Link | None:
    row = await conn.fetch_one(_BY_URL, company_id=company_id, url=url)
    return Link.from_row(row) if row else None
