"""Teams: access and membership.

A token reaches a team if it has shared (or provisioning) access, or the team's own namespace
(``team:<key>``); other teams are invisible to it (404, and left out of lists).
"""

from __future__ import annotations

from porch import ids
from porch.domain.errors import BadRequest, Conflict, NotFound, not_found
from porch.domain.principal import Principal
from porch.events import log
from porch.store import crud, joins
from porch.store import inboxes as inboxes_store
from porch.store import teammates as teammates_store
from porch.store import teams as store
from porch.store.db import Database, Reader
from porch.store.inboxes import Inbox
from porch.store.tables import teams as teams_table
from porch.timeutil import now_ms


async def access_team(conn: Reader, *, principal: Principal, ref: str) -> store.Team:
    """The team ``ref`` names, if this token reaches it; NotFound otherwise."""
    key = ids.decode(ids.TEAM, ref)
    if key is None or not principal.sees_team(key):
        raise not_found("team", ref)
    team = await store.get(conn, company_id=principal.company_id, key=key)
    if team is None:
        raise not_found("team", ref)
    return team


async def list_teams(conn: Reader, *, principal: Principal) -> list[store.Team]:
    """Every team the token reaches, oldest first."""
    teams = await store.all_of(conn, company_id=principal.company_id)
    return [t for t in teams if principal.sees_team(t.id)]


async def team_contents(
    conn: Reader, *, principal: Principal, team: store.Team
) -> tuple[list[Inbox], list[teammates_store.Teammate]]:
    """A team's inboxes (as the token sees them) and its members."""
    inboxes = await inboxes_store.of_team(
        conn, company_id=principal.company_id, team_id=team.id, vis=principal.visibility()
    )
    members = await teammates_store.of_teams(
        conn, company_id=principal.company_id, team_ids=[team.id]
    )
    return inboxes, members


async def oldest_team(conn: Reader, *, principal: Principal) -> store.Team:
    """The oldest team the token reaches, where Front's legacy endpoints create things
    ("the oldest active workspace that the token has access to")."""
    if principal.shared or principal.provisioning:
        team = await store.oldest(conn, company_id=principal.company_id)
    else:
        # Keys grow with age: a team token's oldest team is its smallest key.
        teams = await store.many(
            conn, company_id=principal.company_id, keys=sorted(principal.team_ids)
        )
        team = teams[0] if teams else None
    if team is None:
        raise NotFound("This token reaches no team to create this in")
    return team


async def do_create_team(db: Database, *, principal: Principal, name: str) -> store.Team:
    """Create a team (Porch's admin API; Front's API cannot)."""
    principal.require_provisioning()
    name = name.strip()
    if not name:
        raise BadRequest("A team needs a name")
    async with db.transaction() as tx:
        if await store.by_name(tx, company_id=principal.company_id, name=name) is not None:
            raise Conflict(f"A team named {name!r} already exists")
        key = await crud.insert(
            tx, teams_table, company_id=principal.company_id, name=name, created_at=now_ms()
        )
        await log.append(
            tx,
            company_id=principal.company_id,
            type="team_created",
            source=log.source_of(principal),
            target_type="team",
            target_id=key,
            data={"name": name},
        )
        team = await store.get(tx, company_id=principal.company_id, key=key)
    assert team is not None
    return team


async def do_add_teammates(
    db: Database, *, principal: Principal, team: store.Team, teammate_ids: list[int]
) -> None:
    """Make teammates members of a team (already-members are left alone)."""
    async with db.transaction() as tx:
        await crud.link(
            tx,
            joins.TEAM_MEMBERS,
            company_id=principal.company_id,
            left_id=team.id,
            right_ids=teammate_ids,
        )
        await log.append(
            tx,
            company_id=principal.company_id,
            type="team_members_added",
            source=log.source_of(principal),
            target_type="team",
            target_id=team.id,
            data={"teammate_ids": teammate_ids},
        )


async def do_remove_teammates(
    db: Database, *, principal: Principal, team: store.Team, teammate_ids: list[int]
) -> None:
    """Remove teammates from a team (non-members are ignored)."""
    async with db.transaction() as tx:
        await crud.unlink(
            tx,
            joins.TEAM_MEMBERS,
            company_id=principal.company_id,
            left_id=team.id,
            right_ids=teammate_ids,
        )
        await log.append(
            tx,
            company_id=principal.company_id,
            type="team_members_removed",
            source=log.source_of(principal),
            target_type="team",
            target_id=team.id,
            data={"teammate_ids": teammate_ids},
        )
