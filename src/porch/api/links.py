"""Links (Front tag "Links"): list, create, get, rename, and a link's conversations."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from porch.api.conversations import conversation_page
from porch.api.http import Request, Response, json_response, no_content
from porch.api.models import Body, CustomFields, Name, ShortText
from porch.api.pagination import collection, read_page
from porch.api.routing import Routes
from porch.api.shapes import link_json
from porch.domain import links as domain
from porch.domain.errors import BadRequest

routes = Routes()

Url = Annotated[ShortText, Field(min_length=1)]


class CreateLink(Body):
    name: Name | None = None
    external_url: Url | None = None
    pattern: Url | None = None


class UpdateLink(Body):
    name: Name | None = None
    # Not in Front's UpdateLink schema, but NOTES §5 says a PATCH of custom_fields replaces a
    # link's map as it does a conversation's: accepted as an extension.
    custom_fields: CustomFields | None = None


@routes.get("/links", "list-links", scope="links:read")
async def list_links(req: Request) -> Response:
    """List the company's links by id; ``q[types]`` (repeatable) filters on the link type."""
    page = read_page(req, sort_fields=("id",))
    after = page.after[0] if page.after else None
    if after is not None and not isinstance(after, int):
        raise BadRequest("Invalid page_token")
    types = req.query_all("q[types]")
    rows, nxt = await domain.list_links(
        req.db,
        principal=req.principal,
        types=types,
        after=after,
        limit=page.limit,
        descending=page.descending,
    )
    return collection(req, [link_json(req, link) for link in rows], [nxt] if nxt else None)


@routes.post("/links", "create-link", scope="links:write", status=201, body=CreateLink)
async def create_link(req: Request) -> Response:
    """Create a web link (or return the existing link with the same external URL)."""
    body = await req.parse(CreateLink)
    link = await domain.do_create_link(
        req.db,
        principal=req.principal,
        name=body.name,
        external_url=body.external_url,
        pattern=body.pattern,
    )
    return json_response(link_json(req, link), 201)


@routes.get("/links/{link_id}", "get-link", scope="links:read")
async def get_link(req: Request) -> Response:
    """Fetch a link."""
    link = await domain.access_link(req.db, principal=req.principal, ref=req.path_params["link_id"])
    return json_response(link_json(req, link))


@routes.patch("/links/{link_id}", "update-a-link", scope="links:write", status=204, body=UpdateLink)
async def update_a_link(req: Request) -> Response:
    """Rename a link (and replace its custom fields)."""
    link = await domain.access_link(req.db, principal=req.principal, ref=req.path_params["link_id"])
    body = await req.parse(UpdateLink)
    await domain.do_update_link(req.db, principal=req.principal, link=link, changes=body.sent())
    return no_content()


@routes.get("/links/{link_id}/conversations", "list-link-conversations", scope="conversations:read")
async def list_link_conversations(req: Request) -> Response:
    """List the conversations linked to a link."""
    link = await domain.access_link(req.db, principal=req.principal, ref=req.path_params["link_id"])
    return await conversation_page(req, "link", link.id)
