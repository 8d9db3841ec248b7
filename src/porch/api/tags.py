"""Tags (Front tag "Tags"): company, team, teammate and child tags."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from porch.api.conversations import conversation_page
from porch.api.http import Request, Response, json_response, no_content
from porch.api.models import Body, Name, Ref, ShortText
from porch.api.pagination import collection, read_page
from porch.api.routing import Routes
from porch.api.shapes import tag_json
from porch.domain import tags as domain
from porch.domain.teammates import access_teammate, private_owner
from porch.domain.teams import access_team
from porch.store.tags import Tag

routes = Routes()

Highlight = Literal[
    "grey", "pink", "red", "orange", "yellow", "green", "light-blue", "blue", "purple"
]
TagName = Annotated[Name, Field(max_length=64)]


class CreateTag(Body):
    name: TagName
    description: ShortText | None = None
    highlight: Highlight | None = None
    is_visible_in_conversation_lists: bool = False


class UpdateTag(Body):
    name: TagName | None = None
    description: ShortText | None = None
    highlight: Highlight | None = None
    parent_tag_id: Ref | None = None
    is_visible_in_conversation_lists: bool | None = None


async def _page(req: Request, scope: str, owner: int | None) -> Response:
    page = read_page(req, sort_fields=("id",))
    rows, nxt = await domain.list_tags(
        req.db,
        principal=req.principal,
        scope=scope,
        owner=owner,
        after=page.after[0] if page.after else None,
        limit=page.limit,
        descending=page.descending,
    )
    return collection(req, [tag_json(req, t) for t in rows], [nxt] if nxt else None)


async def _create(req: Request, owner: domain.Owner, parent: Tag | None = None) -> Response:
    body = await req.parse(CreateTag)
    tag = await domain.do_create_tag(
        req.db,
        principal=req.principal,
        owner=owner,
        name=body.name,
        description=body.description,
        highlight=body.highlight,
        parent=parent,
        is_visible_in_conversation_lists=body.is_visible_in_conversation_lists,
    )
    return json_response(tag_json(req, tag), 201)


@routes.get("/tags", "list-tags", scope="tags:read")
async def list_tags(req: Request) -> Response:
    """List every tag the token can see."""
    return await _page(req, "all", None)


@routes.post("/tags", "create-tag", scope="tags:write", status=201, body=CreateTag)
async def create_tag(req: Request) -> Response:
    """Create a tag in the oldest team (Front's legacy endpoint)."""
    return await _create(
        req, await domain.team_owner(req.db, principal=req.principal, team_ref=None)
    )


@routes.get("/company/tags", "list-company-tags", scope="tags:read")
async def list_company_tags(req: Request) -> Response:
    """List the company's tags (owned by no team or teammate)."""
    return await _page(req, "company", None)


@routes.post("/company/tags", "create-company-tag", scope="tags:write", status=201, body=CreateTag)
async def create_company_tag(req: Request) -> Response:
    """Create a company tag."""
    return await _create(req, await domain.company_owner(req.principal))


@routes.get("/teams/{team_id}/tags", "list-team-tags", scope="tags:read")
async def list_team_tags(req: Request) -> Response:
    """List the tags of a team."""
    team = await access_team(req.db, principal=req.principal, ref=req.path_params["team_id"])
    return await _page(req, "team", team.id)


@routes.post(
    "/teams/{team_id}/tags", "create-team-tag", scope="tags:write", status=201, body=CreateTag
)
async def create_team_tag(req: Request) -> Response:
    """Create a tag owned by a team."""
    owner = await domain.team_owner(
        req.db, principal=req.principal, team_ref=req.path_params["team_id"]
    )
    return await _create(req, owner)


@routes.get("/teammates/{teammate_id}/tags", "list-teammate-tags", scope="tags:read")
async def list_teammate_tags(req: Request) -> Response:
    """List a teammate's private tags."""
    teammate = await access_teammate(
        req.db, principal=req.principal, ref=req.path_params["teammate_id"]
    )
    private_owner(req.principal, teammate)
    return await _page(req, "teammate", teammate.id)


@routes.post(
    "/teammates/{teammate_id}/tags",
    "create-teammate-tag",
    scope="tags:write",
    status=201,
    body=CreateTag,
)
async def create_teammate_tag(req: Request) -> Response:
    """Create a private tag for a teammate."""
    owner = await domain.teammate_owner(
        req.db, principal=req.principal, teammate_ref=req.path_params["teammate_id"]
    )
    return await _create(req, owner)


@routes.get("/tags/{tag_id}", "get-tag", scope="tags:read")
async def get_tag(req: Request) -> Response:
    """Fetch a tag."""
    tag = await domain.access_tag(req.db, principal=req.principal, ref=req.path_params["tag_id"])
    return json_response(tag_json(req, tag))


@routes.patch("/tags/{tag_id}", "update-a-tag", scope="tags:write", status=204, body=UpdateTag)
async def update_a_tag(req: Request) -> Response:
    """Update a tag; only the fields sent change."""
    tag = await domain.access_tag(req.db, principal=req.principal, ref=req.path_params["tag_id"])
    body = await req.parse(UpdateTag)
    await domain.do_update_tag(req.db, principal=req.principal, tag=tag, changes=body.sent())
    return no_content()


@routes.delete("/tags/{tag_id}", "delete-tag", scope="tags:delete", status=204)
async def delete_tag(req: Request) -> Response:
    """Delete a tag and its children."""
    tag = await domain.access_tag(req.db, principal=req.principal, ref=req.path_params["tag_id"])
    await domain.do_delete_tag(req.db, principal=req.principal, tag=tag)
    return no_content()


@routes.get("/tags/{tag_id}/children", "list-tag-children", scope="tags:read")
async def list_tag_children(req: Request) -> Response:
    """List the children of a tag."""
    tag = await domain.access_tag(req.db, principal=req.principal, ref=req.path_params["tag_id"])
    return await _page(req, "children", tag.id)


@routes.post(
    "/tags/{tag_id}/children", "create-child-tag", scope="tags:write", status=201, body=CreateTag
)
async def create_child_tag(req: Request) -> Response:
    """Create a child of a tag, in the parent's owner."""
    parent = await domain.access_tag(req.db, principal=req.principal, ref=req.path_params["tag_id"])
    return await _create(req, domain.Owner(), parent)


@routes.get("/tags/{tag_id}/conversations", "list-tagged-conversations", scope="conversations:read")
async def list_tagged_conversations(req: Request) -> Response:
    """List the conversations carrying a tag."""
    tag = await domain.access_tag(req.db, principal=req.principal, ref=req.path_params["tag_id"])
    return await conversation_page(req, "tag", tag.id)
