"""Teams (Front tag "Teams"): the workspaces of the company and their members."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field

from porch import ids
from porch.api.http import Request, Response, json_response, no_content
from porch.api.models import Body, Ref
from porch.api.pagination import collection
from porch.api.routing import Routes
from porch.api.shapes import team_json
from porch.domain import teams as domain
from porch.domain.teammates import access_teammates
from porch.store.teams import Team

routes = Routes()


class TeammateIds(Body):
    teammate_ids: Annotated[list[Ref], Field(min_length=1, max_length=1000)]


def team_preview_json(req: Request, team: Team) -> dict[str, Any]:
    """Front's TeamPreviewResponse (lists of teams)."""
    tid = ids.encode(ids.TEAM, team.id)
    return {"_links": {"self": req.url(f"/teams/{tid}")}, "id": tid, "name": team.name}


@routes.get("/teams", "list-teams", scope="teams:read")
async def list_teams(req: Request) -> Response:
    """List the teams the token reaches (all of them for a shared token)."""
    found = await domain.list_teams(req.db, principal=req.principal)
    return collection(req, [team_preview_json(req, t) for t in found])


@routes.get("/teams/{team_id}", "get-team", scope="teams:read")
async def get_team(req: Request) -> Response:
    """Fetch a team with its inboxes and members."""
    team = await domain.access_team(req.db, principal=req.principal, ref=req.path_params["team_id"])
    inboxes, members = await domain.team_contents(req.db, principal=req.principal, team=team)
    return json_response(team_json(req, team, inboxes, members))


@routes.post(
    "/teams/{team_id}/teammates",
    "add-teammates-to-team",
    scope="teams:write",
    status=204,
    body=TeammateIds,
)
async def add_teammates_to_team(req: Request) -> Response:
    """Add teammates (ids, ``alt:email:`` aliases or emails) to a team."""
    team = await domain.access_team(req.db, principal=req.principal, ref=req.path_params["team_id"])
    body = await req.parse(TeammateIds)
    found = await access_teammates(req.db, principal=req.principal, refs_=body.teammate_ids)
    await domain.do_add_teammates(
        req.db, principal=req.principal, team=team, teammate_ids=[t.id for t in found]
    )
    return no_content()


@routes.delete(
    "/teams/{team_id}/teammates",
    "remove-teammates-from-team",
    scope="teams:write",
    status=204,
    body=TeammateIds,
)
async def remove_teammates_from_team(req: Request) -> Response:
    """Remove teammates from a team."""
    team = await domain.access_team(req.db, principal=req.principal, ref=req.path_params["team_id"])
    body = await req.parse(TeammateIds)
    found = await access_teammates(req.db, principal=req.principal, refs_=body.teammate_ids)
    await domain.do_remove_teammates(
        req.db, principal=req.principal, team=team, teammate_ids=[t.id for t in found]
    )
    return no_content()
