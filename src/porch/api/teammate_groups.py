"""Teammate groups (Front tag "Teammate groups"): groups, their teammates, teams and inboxes."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field

from porch import ids
from porch.api.http import Request, Response, json_response, no_content
from porch.api.models import Body, Name, Ref, ShortText
from porch.api.pagination import collection
from porch.api.routing import Routes
from porch.api.shapes import inbox_json, teammate_json
from porch.api.teams import TeammateIds, team_preview_json
from porch.domain import teammate_groups as domain
from porch.domain.errors import BadRequest
from porch.domain.teammates import access_teammates
from porch.domain.teams import access_team
from porch.store.teammate_groups import TeammateGroup

routes = Routes()

Ids = Annotated[list[Ref], Field(max_length=1000)]


class ContactPermissions(Body):
    access: Literal["all", "contact_groups", "contact_lists", "none"]
    contact_list_ids: Ids | None = None
    contact_group_ids: Ids | None = None


class Permissions(Body):
    contacts: ContactPermissions | None = None


class CreateGroup(Body):
    name: Name
    description: ShortText | None = None
    permissions: Permissions | None = None


class UpdateGroup(Body):
    name: Name | None = None
    description: ShortText | None = None
    permissions: Permissions | None = None


class TeamIds(Body):
    team_ids: Annotated[list[Ref], Field(min_length=1, max_length=1000)]


class InboxIds(Body):
    inbox_ids: Annotated[list[Ref], Field(min_length=1, max_length=1000)]


def group_json(req: Request, group: TeammateGroup) -> dict[str, Any]:
    gid = ids.encode(ids.TEAMMATE_GROUP, group.id)
    base = f"/teammate_groups/{gid}"
    return {
        "_links": {
            "self": req.url(base),
            "related": {
                "teammates": req.url(base + "/teammates"),
                "teams": req.url(base + "/teams"),
                "inboxes": req.url(base + "/inboxes"),
            },
        },
        "id": gid,
        "name": group.name,
        "description": group.description,
        "is_managed_by_scim": group.is_managed_by_scim,
        "permissions": group.permissions,
    }


def _permissions(body: CreateGroup | UpdateGroup) -> dict[str, Any] | None:
    if body.permissions is None:
        return None
    return body.permissions.model_dump(exclude_none=True)


async def _group(req: Request) -> TeammateGroup:
    return await domain.access_teammate_group(
        req.db, principal=req.principal, ref=req.path_params["teammate_group_id"]
    )


@routes.get("/teammate_groups", "list-company-teammate-groups", scope="teammate_groups:read")
async def list_company_teammate_groups(req: Request) -> Response:
    """List the company's teammate groups."""
    found = await domain.list_teammate_groups(req.db, principal=req.principal)
    return collection(req, [group_json(req, g) for g in found])


@routes.post(
    "/teammate_groups",
    "create-company-teammate-group",
    scope="teammate_groups:write",
    status=201,
    body=CreateGroup,
)
async def create_company_teammate_group(req: Request) -> Response:
    """Create a teammate group."""
    body = await req.parse(CreateGroup)
    group = await domain.do_create_teammate_group(
        req.db,
        principal=req.principal,
        name=body.name,
        description=body.description,
        permissions=_permissions(body),
    )
    return json_response(group_json(req, group), 201)


@routes.get(
    "/teammate_groups/{teammate_group_id}",
    "get-company-teammate-group",
    scope="teammate_groups:read",
)
async def get_company_teammate_group(req: Request) -> Response:
    """Fetch a teammate group."""
    return json_response(group_json(req, await _group(req)))


@routes.patch(
    "/teammate_groups/{teammate_group_id}",
    "update-a-company-teammate-group",
    scope="teammate_groups:write",
    status=204,
    body=UpdateGroup,
)
async def update_a_company_teammate_group(req: Request) -> Response:
    """Update a group's name, description or permissions (only the fields sent)."""
    group = await _group(req)
    body = await req.parse(UpdateGroup)
    changes = body.sent()
    nulls = sorted(k for k, v in changes.items() if v is None and k != "description")
    if nulls:
        raise BadRequest(
            "The request body is invalid", details=[f"{k}: may not be null" for k in nulls]
        )
    if "permissions" in changes:
        changes["permissions"] = _permissions(body)
    await domain.do_update_teammate_group(
        req.db, principal=req.principal, group=group, changes=changes
    )
    return no_content()


@routes.delete(
    "/teammate_groups/{teammate_group_id}",
    "delete-company-teammate-group",
    scope="teammate_groups:delete",
    status=204,
)
async def delete_company_teammate_group(req: Request) -> Response:
    """Delete a teammate group."""
    group = await _group(req)
    await domain.do_delete_teammate_group(req.db, principal=req.principal, group=group)
    return no_content()


@routes.get(
    "/teammate_groups/{teammate_group_id}/inboxes",
    "list-company-teammate-group-team-inboxes",
    scope="inboxes:read",
)
async def list_company_teammate_group_team_inboxes(req: Request) -> Response:
    """List the inboxes the group reaches: its teams' public inboxes and those linked to it."""
    group = await _group(req)
    found = await domain.group_inboxes(req.db, principal=req.principal, group=group)
    return collection(req, [inbox_json(req, i) for i in found])


@routes.post(
    "/teammate_groups/{teammate_group_id}/inboxes",
    "add-company-teammate-group-team-inboxes",
    scope="teammate_groups:write",
    status=204,
    body=InboxIds,
)
async def add_company_teammate_group_team_inboxes(req: Request) -> Response:
    """Link non-public inboxes of the group's teams to the group."""
    group = await _group(req)
    body = await req.parse(InboxIds)
    found = await domain.access_group_inboxes(req.db, principal=req.principal, refs_=body.inbox_ids)
    await domain.do_add_inboxes(req.db, principal=req.principal, group=group, inboxes=found)
    return no_content()


@routes.delete(
    "/teammate_groups/{teammate_group_id}/inboxes",
    "remove-company-teammate-group-team-inboxes",
    scope="teammate_groups:write",
    status=204,
    body=InboxIds,
)
async def remove_company_teammate_group_team_inboxes(req: Request) -> Response:
    """Unlink non-public inboxes from the group."""
    group = await _group(req)
    body = await req.parse(InboxIds)
    found = await domain.access_group_inboxes(req.db, principal=req.principal, refs_=body.inbox_ids)
    await domain.do_remove_inboxes(req.db, principal=req.principal, group=group, inboxes=found)
    return no_content()


@routes.get(
    "/teammate_groups/{teammate_group_id}/teammates",
    "list-company-teammate-group-teammates",
    scope="teammates:read",
)
async def list_company_teammate_group_teammates(req: Request) -> Response:
    """List the group's teammates."""
    group = await _group(req)
    found = await domain.group_teammates(req.db, principal=req.principal, group=group)
    return collection(req, [teammate_json(req, t) for t in found])


@routes.post(
    "/teammate_groups/{teammate_group_id}/teammates",
    "add-company-teammate-group-teammates",
    scope="teammate_groups:write",
    status=204,
    body=TeammateIds,
)
async def add_company_teammate_group_teammates(req: Request) -> Response:
    """Add teammates (ids, ``alt:email:`` aliases or emails) to the group."""
    group = await _group(req)
    body = await req.parse(TeammateIds)
    found = await access_teammates(req.db, principal=req.principal, refs_=body.teammate_ids)
    await domain.do_add_teammates(req.db, principal=req.principal, group=group, teammates=found)
    return no_content()


@routes.delete(
    "/teammate_groups/{teammate_group_id}/teammates",
    "remove-company-teammate-group-teammates",
    scope="teammate_groups:write",
    status=204,
    body=TeammateIds,
)
async def remove_company_teammate_group_teammates(req: Request) -> Response:
    """Remove teammates from the group."""
    group = await _group(req)
    body = await req.parse(TeammateIds)
    found = await access_teammates(req.db, principal=req.principal, refs_=body.teammate_ids)
    await domain.do_remove_teammates(req.db, principal=req.principal, group=group, teammates=found)
    return no_content()


@routes.get(
    "/teammate_groups/{teammate_group_id}/teams",
    "list-company-teammate-group-teams",
    scope="teams:read",
)
async def list_company_teammate_group_teams(req: Request) -> Response:
    """List the group's teams."""
    group = await _group(req)
    found = await domain.group_teams(req.db, principal=req.principal, group=group)
    return collection(req, [team_preview_json(req, t) for t in found])


@routes.post(
    "/teammate_groups/{teammate_group_id}/teams",
    "add-company-teammate-group-teams",
    scope="teammate_groups:write",
    status=204,
    body=TeamIds,
)
async def add_company_teammate_group_teams(req: Request) -> Response:
    """Add teams to the group (their public inboxes come with them)."""
    group = await _group(req)
    body = await req.parse(TeamIds)
    found = [await access_team(req.db, principal=req.principal, ref=r) for r in body.team_ids]
    await domain.do_add_teams(req.db, principal=req.principal, group=group, teams=found)
    return no_content()


@routes.delete(
    "/teammate_groups/{teammate_group_id}/teams",
    "remove-company-teammate-group-teams",
    scope="teammate_groups:write",
    status=204,
    body=TeamIds,
)
async def remove_company_teammate_group_teams(req: Request) -> Response:
    """Remove teams from the group, unlinking their inboxes."""
    group = await _group(req)
    body = await req.parse(TeamIds)
    found = [await access_team(req.db, principal=req.principal, ref=r) for r in body.team_ids]
    await domain.do_remove_teams(req.db, principal=req.principal, group=group, teams=found)
    return no_content()
