"""Teammate rows and the queries that read them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson
import sqlalchemy as sa

from porch.store.db import Query, Reader, Row, in_list
from porch.store.tables import team_members, teammates

t = teammates


@dataclass(frozen=True, slots=True)
class Teammate:
    id: int
    company_id: int
    email: str
    username: str
    first_name: str
    last_name: str
    is_admin: bool
    is_available: bool
    is_blocked: bool
    type: str
    license_type: str
    api_private_access: bool
    custom_fields: dict[str, Any]
    created_at: int
    updated_at: int

    @classmethod
    def from_row(cls, r: Row) -> Teammate:
        return cls(
            r["id"],
            r["company_id"],
            r["email"],
            r["username"],
            r["first_name"],
            r["last_name"],
            bool(r["is_admin"]),
            bool(r["is_available"]),
            bool(r["is_blocked"]),
            r["type"],
            r["license_type"],
            bool(r["api_private_access"]),
            orjson.loads(r["custom_fields"]),
            r["created_at"],
            r["updated_at"],
        )


_cid = t.c.company_id == sa.bindparam("company_id")
_BY_KEY = Query(sa.select(t).where(_cid, t.c.id == sa.bindparam("key")))
_BY_EMAIL = Query(sa.select(t).where(_cid, t.c.email == sa.bindparam("email")))
_BY_USERNAME = Query(sa.select(t).where(_cid, t.c.username == sa.bindparam("username")))
_BY_KEYS = Query(sa.select(t).where(_cid, in_list(t.c.id, "keys")).order_by(t.c.id))
_ALL = Query(sa.select(t).where(_cid).order_by(t.c.id))
_OF_TEAMS = Query(
    sa.select(t)
    .where(
        _cid,
        t.c.id.in_(
            sa.select(team_members.c.teammate_id).where(in_list(team_members.c.team_id, "teams"))
        ),
    )
    .order_by(t.c.id)
)
_TEAMS_OF = Query(
    sa.select(team_members.c.team_id).where(team_members.c.teammate_id == sa.bindparam("key"))
)


async def get(conn: Reader, *, company_id: int, key: int) -> Teammate | None:
    row = await conn.fetch_one(_BY_KEY, company_id=company_id, key=key)
    return Teammate.from_row(row) if row else None


async def by_email(conn: Reader, *, company_id: int, email: str) -> Teammate | None:
    row = await conn.fetch_one(_BY_EMAIL, company_id=company_id, email=email.lower())
    return Teammate.from_row(row) if row else None


async def by_username(conn: Reader, *, company_id: int, username: str) -> Teammate | None:
    row = await conn.fetch_one(_BY_USERNAME, company_id=company_id, username=username)
    return Teammate.from_row(row) if row else None


async def many(conn: Reader, *, company_id: int, keys: list[int]) -> list[Teammate]:
    if not keys:
        return []
    rows = await conn.fetch_all(_BY_KEYS, company_id=company_id, keys=keys)
    return [Teammate.from_row(r) for r in rows]


async def all_of(conn: Reader, *, company_id: int) -> list[Teammate]:
    return [Teammate.from_row(r) for r in await conn.fetch_all(_ALL, company_id=company_id)]


async def of_teams(conn: Reader, *, company_id: int, team_ids: list[int]) -> list[Teammate]:
    rows = await conn.fetch_all(_OF_TEAMS, company_id=company_id, teams=team_ids)
    return [Teammate.from_row(r) for r in rows]


async def team_ids_of(conn: Reader, *, key: int) -> list[int]:
    return [r["team_id"] for r in await conn.fetch_all(_TEAMS_OF, key=key)]
