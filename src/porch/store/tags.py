"""Tag rows and the queries that read them."""

from __future__ import annotations

from typing import NamedTuple

import sqlalchemy as sa

from porch.store.db import Query, Reader, Row
from porch.store.tables import tags
from porch.store.visibility import owned_by_visible

t = tags


class Tag(NamedTuple):
    """A tag row. A named tuple rather than a dataclass: lists build a hundred per request, and
    a tuple is built in one C call from the row (fields are the table's columns, in order)."""

    id: int
    company_id: int
    name: str
    description: str | None
    highlight: str | None
    is_visible_in_conversation_lists: bool
    parent_id: int | None
    team_id: int | None
    owner_teammate_id: int | None
    created_at: int
    updated_at: int

    @classmethod
    def from_row(cls, r: Row) -> Tag:
        return cls(*r)  # type: ignore[arg-type]  # a row is a sequence of the columns

    @property
    def is_private(self) -> bool:
        return self.owner_teammate_id is not None


assert list(Tag._fields) == [c.name for c in t.c], "Tag mirrors the tags table"

_cid = t.c.company_id == sa.bindparam("company_id")
_visible = owned_by_visible(t)
_BY_KEY = Query(sa.select(t).where(_cid, t.c.id == sa.bindparam("key"), _visible))
_BY_KEY_ANY = Query(sa.select(t).where(_cid, t.c.id == sa.bindparam("key")))

# Which tags a list shows: every visible one, company-level ones, one team's, one teammate's,
# or the children of one tag.
_SCOPES = {
    "all": sa.true(),
    "company": sa.and_(t.c.team_id.is_(None), t.c.owner_teammate_id.is_(None)),
    "team": t.c.team_id == sa.bindparam("owner"),
    "teammate": t.c.owner_teammate_id == sa.bindparam("owner"),
    "children": t.c.parent_id == sa.bindparam("owner"),
}


def _page_query(scope: str, descending: bool) -> Query:
    after: sa.BindParameter[int] = sa.bindparam("after")
    return Query(
        sa.select(t)
        .where(_cid, _visible, _SCOPES[scope], t.c.id < after if descending else t.c.id > after)
        .order_by(t.c.id.desc() if descending else t.c.id)
        .limit(sa.bindparam("lim"))
    )


_PAGES = {(s, d): _page_query(s, d) for s in _SCOPES for d in (False, True)}
_NAME_TAKEN = Query(
    sa.select(t.c.id).where(
        _cid,
        t.c.name == sa.bindparam("name"),
        t.c.team_id.is_not_distinct_from(sa.bindparam("team_id", type_=sa.BigInteger)),
        t.c.owner_teammate_id.is_not_distinct_from(sa.bindparam("owner_id", type_=sa.BigInteger)),
        t.c.parent_id.is_not_distinct_from(sa.bindparam("parent_id", type_=sa.BigInteger)),
    )
)


async def get_visible(
    conn: Reader, *, company_id: int, key: int, vis: dict[str, object]
) -> Tag | None:
    row = await conn.fetch_one(_BY_KEY, company_id=company_id, key=key, **vis)
    return Tag.from_row(row) if row else None


async def get(conn: Reader, *, company_id: int, key: int) -> Tag | None:
    row = await conn.fetch_one(_BY_KEY_ANY, company_id=company_id, key=key)
    return Tag.from_row(row) if row else None


async def page(
    conn: Reader,
    *,
    company_id: int,
    vis: dict[str, object],
    scope: str,
    owner: int | None,
    after: int | None,
    limit: int,
    descending: bool,
) -> list[Tag]:
    """Up to ``limit`` visible tags of ``scope`` after the key ``after``, by id."""
    if after is None:
        after = 2**63 - 1 if descending else 0
    rows = await conn.fetch_all(
        _PAGES[(scope, descending)],
        company_id=company_id,
        owner=owner,
        after=after,
        lim=limit,
        **vis,
    )
    return [Tag.from_row(r) for r in rows]


async def name_taken(
    conn: Reader,
    *,
    company_id: int,
    name: str,
    team_id: int | None,
    owner_id: int | None,
    parent_id: int | None,
) -> bool:
    row = await conn.fetch_one(
        _NAME_TAKEN,
        company_id=company_id,
        name=name,
        team_id=team_id,
        owner_id=owner_id,
        parent_id=parent_id,
    )
    return row is not None
