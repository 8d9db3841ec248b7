"""Teams: access and membership."""

from __future__ import annotations

from porch import ids
from porch.domain.errors import NotFound, not_found
from porch.domain.principal import Principal
from porch.store import teams as store
from porch.store.db import Connection


async def access_team(conn: Connection, *, principal: Principal, ref: str) -> store.Team:
    """The team ``ref`` names, if this token reaches it; NotFound otherwise."""
    key = ids.decode(ids.TEAM, ref)
    if key is None or not principal.sees_team(key):
        raise not_found("team", ref)
    team = await store.get(conn, company_id=principal.company_id, key=key)
    if team is None:
        raise not_found("team", ref)
    return team


async def oldest_team(conn: Connection, *, principal: Principal) -> store.Team:
    """The company's oldest team, where Front's legacy endpoints create things."""
    team = await store.oldest(conn, company_id=principal.company_id)
    if team is None or not principal.sees_team(team.id):
        raise NotFound("This token reaches no team to create this in")
    return team
