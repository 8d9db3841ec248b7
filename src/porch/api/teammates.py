"""Teammates (Front tag "Teammates"): the company directory, profile updates, inboxes."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from porch.api.conversations import conversation_page
from porch.api.http import Request, Response, json_response, no_content
from porch.api.models import Body, CustomFields, ShortText
from porch.api.pagination import collection
from porch.api.routing import Routes
from porch.api.shapes import inbox_json, teammate_json
from porch.domain import teammates as domain
from porch.domain.errors import BadRequest

routes = Routes()

PersonName = Annotated[ShortText, Field(max_length=255)]


class UpdateTeammate(Body):
    username: Annotated[ShortText, Field(min_length=1, max_length=64)] | None = None
    first_name: PersonName | None = None
    last_name: PersonName | None = None
    is_available: bool | None = None
    custom_fields: CustomFields | None = None


@routes.get("/teammates", "list-teammates", scope="teammates:read")
async def list_teammates(req: Request) -> Response:
    """List every teammate of the company."""
    found = await domain.list_teammates(req.db, principal=req.principal)
    return collection(req, [teammate_json(req, t) for t in found])


@routes.get("/teammates/{teammate_id}", "get-teammate", scope="teammates:read")
async def get_teammate(req: Request) -> Response:
    """Fetch a teammate by id, ``alt:email:`` alias or email."""
    tm = await domain.access_teammate(
        req.db, principal=req.principal, ref=req.path_params["teammate_id"]
    )
    return json_response(teammate_json(req, tm))


@routes.patch(
    "/teammates/{teammate_id}",
    "update-teammate",
    scope="teammates:write",
    status=204,
    body=UpdateTeammate,
)
async def update_teammate(req: Request) -> Response:
    """Update a teammate's username, names, availability or custom fields."""
    tm = await domain.access_teammate(
        req.db, principal=req.principal, ref=req.path_params["teammate_id"]
    )
    body = await req.parse(UpdateTeammate)
    changes = body.sent()
    nulls = sorted(k for k, v in changes.items() if v is None and k != "custom_fields")
    if nulls:
        raise BadRequest(
            "The request body is invalid", details=[f"{k}: may not be null" for k in nulls]
        )
    if "custom_fields" in changes and changes["custom_fields"] is None:
        # Null custom_fields is an empty map: every field is cleared.
        changes["custom_fields"] = {}
    await domain.do_update_teammate(req.db, principal=req.principal, teammate=tm, changes=changes)
    return no_content()


@routes.get(
    "/teammates/{teammate_id}/conversations",
    "list-assigned-conversations",
    scope="conversations:read",
)
async def list_assigned_conversations(req: Request) -> Response:
    """List the conversations assigned to a teammate."""
    teammate = await domain.access_teammate(
        req.db, principal=req.principal, ref=req.path_params["teammate_id"]
    )
    return await conversation_page(req, "assignee", teammate.id)


@routes.get("/teammates/{teammate_id}/inboxes", "list-teammate-inboxes", scope="inboxes:read")
async def list_teammate_inboxes(req: Request) -> Response:
    """List the inboxes a teammate has access to, as far as the token sees them."""
    tm = await domain.access_teammate(
        req.db, principal=req.principal, ref=req.path_params["teammate_id"]
    )
    found = await domain.teammate_inboxes(req.db, principal=req.principal, teammate=tm)
    return collection(req, [inbox_json(req, i) for i in found])
