"""Teammate group rows, their members, teams and linked inboxes, and the queries that read them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson
import sqlalchemy as sa

from porch.store.db import Query, Reader, Row
from porch.store.inboxes import Inbox
from porch.store.tables import (
    inboxes,
    teammate_group_inboxes,
    teammate_group_members,
    teammate_group_teams,
    teammate_groups,
    teammates,
    teams,
)
from porch.store.teammates import Teammate
from porch.store.teams import Team
from porch.store.visibility import owned_by_visible

t = teammate_groups


@dataclass(frozen=True, slots=True)
class TeammateGroup:
    id: int
    company_id: int
    name: str
    description: str | None
    is_managed_by_scim: bool
    permissions: dict[str, Any]
    created_at: int

    @classmethod
    def from_row(cls, r: Row) -> TeammateGroup:
        return cls(
            r["id"],
            r["company_id"],
            r["name"],
            r["description"],
            bool(r["is_managed_by_scim"]),
            orjson.loads(r["permissions"]),
            r["created_at"],
        )


_cid = t.c.company_id == sa.bindparam("company_id")
_BY_KEY = Query(sa.select(t).where(_cid, t.c.id == sa.bindparam("key")))
_BY_NAME = Query(sa.select(t).where(_cid, t.c.name == sa.bindparam("name")))
_ALL = Query(sa.select(t).where(_cid).order_by(t.c.id))

_group: sa.BindParameter[int] = sa.bindparam("group")
_MEMBERS = Query(
    sa.select(teammates)
    .where(
        teammates.c.company_id == sa.bindparam("company_id"),
        teammates.c.id.in_(
            sa.select(teammate_group_members.c.teammate_id).where(
                teammate_group_members.c.group_id == _group
            )
        ),
    )
    .order_by(teammates.c.id)
)
_TEAMS = Query(
    sa.select(teams)
    .where(
        teams.c.company_id == sa.bindparam("company_id"),
        teams.c.id.in_(
            sa.select(teammate_group_teams.c.team_id).where(
                teammate_group_teams.c.group_id == _group
            )
        ),
    )
    .order_by(teams.c.id)
)
# A group reaches the public inboxes of its teams, plus the non-public ones linked explicitly.
_INBOXES = Query(
    sa.select(inboxes)
    .where(
        inboxes.c.company_id == sa.bindparam("company_id"),
        owned_by_visible(inboxes),
        sa.or_(
            sa.and_(
                inboxes.c.is_public == sa.true(),
                inboxes.c.team_id.in_(
                    sa.select(teammate_group_teams.c.team_id).where(
                        teammate_group_teams.c.group_id == _group
                    )
                ),
            ),
            inboxes.c.id.in_(
                sa.select(teammate_group_inboxes.c.inbox_id).where(
                    teammate_group_inboxes.c.group_id == _group
                )
            ),
        ),
    )
    .order_by(inboxes.c.id)
)
_TEAM_KEYS = Query(
    sa.select(teammate_group_teams.c.team_id).where(
        teammate_group_teams.c.company_id == sa.bindparam("company_id"),
        teammate_group_teams.c.group_id == _group,
    )
)
# Explicit inbox links of a group whose inbox belongs to one of a list of teams.
_LINKED_OF_TEAM = Query(
    sa.select(teammate_group_inboxes.c.inbox_id).where(
        teammate_group_inboxes.c.company_id == sa.bindparam("company_id"),
        teammate_group_inboxes.c.group_id == _group,
        teammate_group_inboxes.c.inbox_id.in_(
            sa.select(inboxes.c.id).where(inboxes.c.team_id == sa.bindparam("team"))
        ),
    )
)


async def get(conn: Reader, *, company_id: int, key: int) -> TeammateGroup | None:
    row = await conn.fetch_one(_BY_KEY, company_id=company_id, key=key)
    return TeammateGroup.from_row(row) if row else None


async def by_name(conn: Reader, *, company_id: int, name: str) -> TeammateGroup | None:
    row = await conn.fetch_one(_BY_NAME, company_id=company_id, name=name)
    return TeammateGroup.from_row(row) if row else None


async def all_of(conn: Reader, *, company_id: int) -> list[TeammateGroup]:
    return [TeammateGroup.from_row(r) for r in await conn.fetch_all(_ALL, company_id=company_id)]


async def members(conn: Reader, *, company_id: int, group_id: int) -> list[Teammate]:
    rows = await conn.fetch_all(_MEMBERS, company_id=company_id, group=group_id)
    return [Teammate.from_row(r) for r in rows]


async def teams_of(conn: Reader, *, company_id: int, group_id: int) -> list[Team]:
    rows = await conn.fetch_all(_TEAMS, company_id=company_id, group=group_id)
    return [Team.from_row(r) for r in rows]


async def team_keys(conn: Reader, *, company_id: int, group_id: int) -> set[int]:
    rows = await conn.fetch_all(_TEAM_KEYS, company_id=company_id, group=group_id)
    return {r["team_id"] for r in rows}


async def inboxes_of(
    conn: Reader, *, company_id: int, group_id: int, vis: dict[str, object]
) -> list[Inbox]:
    """The inboxes a group reaches (its teams' public ones and those linked), as visible."""
    rows = await conn.fetch_all(_INBOXES, company_id=company_id, group=group_id, **vis)
    return [Inbox.from_row(r) for r in rows]


async def linked_of_team(
    conn: Reader, *, company_id: int, group_id: int, team_id: int
) -> list[int]:
    """Keys of the inboxes of ``team_id`` linked to the group explicitly."""
    rows = await conn.fetch_all(
        _LINKED_OF_TEAM, company_id=company_id, group=group_id, team=team_id
    )
    return [r["inbox_id"] for r in rows]
