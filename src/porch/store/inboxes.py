"""Inbox rows and the queries that read them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson
import sqlalchemy as sa

from porch.store.db import Query, Reader, Row, in_list
from porch.store.tables import inbox_access, inboxes
from porch.store.visibility import owned_by_visible

t = inboxes


@dataclass(frozen=True, slots=True)
class Inbox:
    id: int
    company_id: int
    name: str
    team_id: int | None
    owner_teammate_id: int | None
    is_public: bool
    custom_fields: dict[str, Any]
    created_at: int

    @classmethod
    def from_row(cls, r: Row) -> Inbox:
        return cls(
            r["id"],
            r["company_id"],
            r["name"],
            r["team_id"],
            r["owner_teammate_id"],
            bool(r["is_public"]),
            orjson.loads(r["custom_fields"]),
            r["created_at"],
        )

    @property
    def is_private(self) -> bool:
        return self.owner_teammate_id is not None


_cid = t.c.company_id == sa.bindparam("company_id")
_visible = owned_by_visible(t)
_BY_KEY = Query(sa.select(t).where(_cid, t.c.id == sa.bindparam("key"), _visible))
_BY_KEYS = Query(sa.select(t).where(_cid, in_list(t.c.id, "keys"), _visible).order_by(t.c.id))
_ALL_VISIBLE = Query(sa.select(t).where(_cid, _visible).order_by(t.c.id))
_OF_TEAM = Query(
    sa.select(t).where(_cid, t.c.team_id == sa.bindparam("team"), _visible).order_by(t.c.id)
)
_OF_TEAMS = Query(
    sa.select(t).where(_cid, in_list(t.c.team_id, "teams"), _visible).order_by(t.c.id)
)
_PRIVATE_OF = Query(
    sa.select(t)
    .where(_cid, t.c.owner_teammate_id == sa.bindparam("owner"), _visible)
    .order_by(t.c.id)
)
_ACCESS_OF = Query(
    sa.select(inbox_access.c.teammate_id)
    .where(inbox_access.c.inbox_id == sa.bindparam("inbox"))
    .order_by(inbox_access.c.teammate_id)
)
_INBOXES_OF_TEAMMATE = Query(
    sa.select(t)
    .where(
        _cid,
        _visible,
        sa.or_(
            t.c.id.in_(
                sa.select(inbox_access.c.inbox_id).where(
                    inbox_access.c.teammate_id == sa.bindparam("tm")
                )
            ),
            t.c.owner_teammate_id == sa.bindparam("tm"),
        ),
    )
    .order_by(t.c.id)
)


async def get_visible(
    conn: Reader, *, company_id: int, key: int, vis: dict[str, object]
) -> Inbox | None:
    row = await conn.fetch_one(_BY_KEY, company_id=company_id, key=key, **vis)
    return Inbox.from_row(row) if row else None


async def many_visible(
    conn: Reader, *, company_id: int, keys: list[int], vis: dict[str, object]
) -> list[Inbox]:
    if not keys:
        return []
    rows = await conn.fetch_all(_BY_KEYS, company_id=company_id, keys=keys, **vis)
    return [Inbox.from_row(r) for r in rows]


async def all_visible(conn: Reader, *, company_id: int, vis: dict[str, object]) -> list[Inbox]:
    return [
        Inbox.from_row(r) for r in await conn.fetch_all(_ALL_VISIBLE, company_id=company_id, **vis)
    ]


async def of_team(
    conn: Reader, *, company_id: int, team_id: int, vis: dict[str, object]
) -> list[Inbox]:
    rows = await conn.fetch_all(_OF_TEAM, company_id=company_id, team=team_id, **vis)
    return [Inbox.from_row(r) for r in rows]


async def of_teams(
    conn: Reader, *, company_id: int, team_ids: list[int], vis: dict[str, object]
) -> list[Inbox]:
    rows = await conn.fetch_all(_OF_TEAMS, company_id=company_id, teams=team_ids, **vis)
    return [Inbox.from_row(r) for r in rows]


async def private_of(
    conn: Reader, *, company_id: int, teammate_id: int, vis: dict[str, object]
) -> list[Inbox]:
    rows = await conn.fetch_all(_PRIVATE_OF, company_id=company_id, owner=teammate_id, **vis)
    return [Inbox.from_row(r) for r in rows]


async def of_teammate(
    conn: Reader, *, company_id: int, teammate_id: int, vis: dict[str, object]
) -> list[Inbox]:
    """Inboxes a teammate has access to (explicit access or ownership), as the caller sees them."""
    rows = await conn.fetch_all(_INBOXES_OF_TEAMMATE, company_id=company_id, tm=teammate_id, **vis)
    return [Inbox.from_row(r) for r in rows]


async def access_list(conn: Reader, *, inbox_id: int) -> list[int]:
    """Keys of the teammates with explicit access to an inbox."""
    return [r["teammate_id"] for r in await conn.fetch_all(_ACCESS_OF, inbox=inbox_id)]


_BY_KEY_ANY = Query(sa.select(t).where(_cid, t.c.id == sa.bindparam("key")))


async def get(conn: Reader, *, company_id: int, key: int) -> Inbox | None:
    """The inbox ``key`` whatever the caller sees (for re-reading a row just written)."""
    row = await conn.fetch_one(_BY_KEY_ANY, company_id=company_id, key=key)
    return Inbox.from_row(row) if row else None
