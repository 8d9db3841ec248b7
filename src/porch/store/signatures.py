"""Signature rows and the queries that read them.

A signature belongs to a team or to a teammate (private); it is visible as any owned resource
(``owned_by_visible``). ``channel_ids`` is a JSON list of channel keys, or null for every
channel of the owner.
"""

from __future__ import annotations

from dataclasses import dataclass

import orjson
import sqlalchemy as sa

from porch.store.db import Connection, Query, Reader, Row
from porch.store.tables import signatures
from porch.store.visibility import owned_by_visible

t = signatures


@dataclass(frozen=True, slots=True)
class Signature:
    id: int
    company_id: int
    team_id: int | None
    owner_teammate_id: int | None
    name: str | None
    body: str
    sender_info: str | None
    is_visible_for_all_teammate_channels: bool
    is_default: bool
    channel_ids: list[int] | None
    created_at: int

    @classmethod
    def from_row(cls, r: Row) -> Signature:
        return cls(
            r["id"],
            r["company_id"],
            r["team_id"],
            r["owner_teammate_id"],
            r["name"],
            r["body"],
            r["sender_info"],
            bool(r["is_visible_for_all_teammate_channels"]),
            bool(r["is_default"]),
            orjson.loads(r["channel_ids"]) if r["channel_ids"] is not None else None,
            r["created_at"],
        )

    @property
    def is_private(self) -> bool:
        return self.owner_teammate_id is not None


_cid = t.c.company_id == sa.bindparam("company_id")
_visible = owned_by_visible(t)
_BY_KEY = Query(sa.select(t).where(_cid, t.c.id == sa.bindparam("key"), _visible))
_BY_KEY_ANY = Query(sa.select(t).where(_cid, t.c.id == sa.bindparam("key")))

# Which signatures a list shows: one team's or one teammate's.
_SCOPES = {
    "team": t.c.team_id == sa.bindparam("owner"),
    "teammate": t.c.owner_teammate_id == sa.bindparam("owner"),
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

# One default per owner: making a signature the default clears the flag on its siblings.
_CLEAR_DEFAULT = Query(
    sa.update(t)
    .where(
        _cid,
        t.c.team_id.is_not_distinct_from(sa.bindparam("team_id", type_=sa.BigInteger)),
        t.c.owner_teammate_id.is_not_distinct_from(sa.bindparam("owner_id", type_=sa.BigInteger)),
        t.c.id != sa.bindparam("key"),
        t.c.is_default == sa.true(),
    )
    .values(is_default=sa.false())
)


async def get_visible(
    conn: Reader, *, company_id: int, key: int, vis: dict[str, object]
) -> Signature | None:
    row = await conn.fetch_one(_BY_KEY, company_id=company_id, key=key, **vis)
    return Signature.from_row(row) if row else None


async def get(conn: Reader, *, company_id: int, key: int) -> Signature | None:
    row = await conn.fetch_one(_BY_KEY_ANY, company_id=company_id, key=key)
    return Signature.from_row(row) if row else None


async def page(
    conn: Reader,
    *,
    company_id: int,
    vis: dict[str, object],
    scope: str,
    owner: int,
    after: int | None,
    limit: int,
    descending: bool,
) -> list[Signature]:
    """Up to ``limit`` visible signatures of ``scope`` after the key ``after``, by id."""
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
    return [Signature.from_row(r) for r in rows]


async def clear_other_defaults(
    tx: Connection, *, company_id: int, team_id: int | None, owner_id: int | None, key: int
) -> int:
    """Unset ``is_default`` on the owner's signatures other than ``key``."""
    return await tx.execute(
        _CLEAR_DEFAULT, company_id=company_id, team_id=team_id, owner_id=owner_id, key=key
    )
