"""Link rows (Front's "topics": external resources conversations are linked to)."""

from __future__ import annotations

from typing import NamedTuple

import sqlalchemy as sa

from porch.store.db import Query, Reader, Row, in_list
from porch.store.tables import conversation_links, links

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


# --- Pages and batch reads ------------------------------------------------------------------

cl = conversation_links


def _page_query(descending: bool, filtered: bool) -> Query:
    after: sa.BindParameter[int] = sa.bindparam("after")
    where = [_cid, t.c.id < after if descending else t.c.id > after]
    if filtered:
        where.append(in_list(t.c.type, "types"))
    return Query(
        sa.select(t)
        .where(*where)
        .order_by(t.c.id.desc() if descending else t.c.id)
        .limit(sa.bindparam("lim"))
    )


_PAGES = {(d, f): _page_query(d, f) for d in (False, True) for f in (False, True)}
_MANY = Query(sa.select(t).where(_cid, in_list(t.c.id, "keys")).order_by(t.c.id))
_BY_URLS = Query(sa.select(t).where(_cid, in_list(t.c.external_url, "urls")))
_OF_CONVERSATION = Query(
    sa.select(cl.c.link_id)
    .where(cl.c.company_id == sa.bindparam("company_id"), cl.c.conversation_id == sa.bindparam("c"))
    .order_by(cl.c.link_id)
)


async def page(
    conn: Reader,
    *,
    company_id: int,
    types: list[str] | None,
    after: int | None,
    limit: int,
    descending: bool,
) -> list[Link]:
    """Up to ``limit`` links after the key ``after``, by id; ``types`` narrows to those types."""
    if after is None:
        after = 2**63 - 1 if descending else 0
    rows = await conn.fetch_all(
        _PAGES[(descending, types is not None)],
        company_id=company_id,
        after=after,
        lim=limit,
        types=types or [],
    )
    return [Link.from_row(r) for r in rows]


async def many(conn: Reader, *, company_id: int, keys: list[int]) -> list[Link]:
    rows = await conn.fetch_all(_MANY, company_id=company_id, keys=keys)
    return [Link.from_row(r) for r in rows]


async def by_urls(conn: Reader, *, company_id: int, urls: list[str]) -> list[Link]:
    rows = await conn.fetch_all(_BY_URLS, company_id=company_id, urls=urls)
    return [Link.from_row(r) for r in rows]


async def keys_of_conversation(conn: Reader, *, company_id: int, conversation_id: int) -> list[int]:
    """The keys of the links a conversation carries."""
    rows = await conn.fetch_all(_OF_CONVERSATION, company_id=company_id, c=conversation_id)
    return [r["link_id"] for r in rows]
