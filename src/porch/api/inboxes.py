"""Inboxes (Front tag "Inboxes"): team and private inboxes, their channels and access."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from porch.api.conversations import conversation_page
from porch.api.http import Request, Response, json_response, no_content
from porch.api.models import Body, CustomFields, Name, Ref, Refs
from porch.api.pagination import collection
from porch.api.routing import Routes
from porch.api.shapes import channel_json, inbox_json, teammate_json
from porch.domain import channels as channels_domain
from porch.domain import inboxes as domain
from porch.domain.teammates import access_teammate, private_owner
from porch.domain.teams import access_team
from porch.store.inboxes import Inbox

routes = Routes()


class CreateInbox(Body):
    name: Name
    teammate_ids: Refs | None = None
    is_public: bool = False
    custom_fields: CustomFields | None = None


class CreatePrivateInbox(Body):
    name: Name
    custom_fields: CustomFields | None = None


class InboxAccess(Body):
    teammate_ids: Annotated[list[Ref], Field(min_length=1, max_length=1000)]


def _inboxes(req: Request, rows: list[Inbox]) -> Response:
    # Front does not paginate inbox lists: every inbox is on the one page.
    return collection(req, [inbox_json(req, i) for i in rows])


async def _create_shared(req: Request, owner: domain.Owner) -> Response:
    body = await req.parse(CreateInbox)
    inbox = await domain.do_create_inbox(
        req.db,
        principal=req.principal,
        owner=owner,
        name=body.name,
        is_public=body.is_public,
        teammate_refs=body.teammate_ids,
        custom_field_values=body.custom_fields,
    )
    return json_response(inbox_json(req, inbox), 201)


@routes.get("/inboxes", "list-inboxes", scope="inboxes:read")
async def list_inboxes(req: Request) -> Response:
    """List every inbox the token can see."""
    return _inboxes(req, await domain.list_visible(req.db, principal=req.principal))


@routes.post("/inboxes", "create-inbox", scope="inboxes:write", status=201, body=CreateInbox)
async def create_inbox(req: Request) -> Response:
    """Create a team inbox in the oldest team the token reaches."""
    owner = await domain.team_owner(req.db, principal=req.principal, team_ref=None)
    return await _create_shared(req, owner)


@routes.get("/inboxes/{inbox_id}", "get-inbox", scope="inboxes:read")
async def get_inbox(req: Request) -> Response:
    """Fetch an inbox."""
    inbox = await domain.access_inbox(
        req.db, principal=req.principal, ref=req.path_params["inbox_id"]
    )
    return json_response(inbox_json(req, inbox))


@routes.get("/inboxes/{inbox_id}/channels", "list-inbox-channels", scope="channels:read")
async def list_inbox_channels(req: Request) -> Response:
    """List the channels of an inbox."""
    inbox = await domain.access_inbox(
        req.db, principal=req.principal, ref=req.path_params["inbox_id"]
    )
    rows = await channels_domain.list_of_inbox(req.db, principal=req.principal, inbox=inbox)
    return collection(req, [channel_json(req, c) for c in rows])


@routes.get(
    "/inboxes/{inbox_id}/conversations", "list-inbox-conversations", scope="conversations:read"
)
async def list_inbox_conversations(req: Request) -> Response:
    """List the conversations of an inbox."""
    inbox = await domain.access_inbox(
        req.db, principal=req.principal, ref=req.path_params["inbox_id"]
    )
    return await conversation_page(req, "inbox", inbox.id)


@routes.get("/inboxes/{inbox_id}/teammates", "list-inbox-access", scope="teammates:read")
async def list_inbox_access(req: Request) -> Response:
    """List the teammates who reach an inbox."""
    inbox = await domain.access_inbox(
        req.db, principal=req.principal, ref=req.path_params["inbox_id"]
    )
    rows = await domain.teammates_with_access(req.db, principal=req.principal, inbox=inbox)
    return collection(req, [teammate_json(req, t) for t in rows])


@routes.post(
    "/inboxes/{inbox_id}/teammates",
    "add-inbox-access",
    scope="inboxes:write",
    status=204,
    body=InboxAccess,
)
async def add_inbox_access(req: Request) -> Response:
    """Give teammates access to an inbox."""
    inbox = await domain.access_inbox(
        req.db, principal=req.principal, ref=req.path_params["inbox_id"]
    )
    body = await req.parse(InboxAccess)
    await domain.do_add_access(
        req.db, principal=req.principal, inbox=inbox, teammate_refs=body.teammate_ids
    )
    return no_content()


@routes.delete(
    "/inboxes/{inbox_id}/teammates",
    "removes-inbox-access",
    scope="inboxes:write",
    status=204,
    body=InboxAccess,
)
async def removes_inbox_access(req: Request) -> Response:
    """Withdraw teammates' access to an inbox."""
    inbox = await domain.access_inbox(
        req.db, principal=req.principal, ref=req.path_params["inbox_id"]
    )
    body = await req.parse(InboxAccess)
    await domain.do_remove_access(
        req.db, principal=req.principal, inbox=inbox, teammate_refs=body.teammate_ids
    )
    return no_content()


@routes.get(
    "/teammates/{teammate_id}/private_inboxes",
    "list-teammate-private-inboxes",
    scope="inboxes:read",
)
async def list_teammate_private_inboxes(req: Request) -> Response:
    """List a teammate's private inboxes."""
    teammate = await access_teammate(
        req.db, principal=req.principal, ref=req.path_params["teammate_id"]
    )
    private_owner(req.principal, teammate)
    rows = await domain.list_private(req.db, principal=req.principal, teammate_id=teammate.id)
    return _inboxes(req, rows)


@routes.post(
    "/teammates/{teammate_id}/private_inboxes",
    "create-teammate-private-inbox",
    scope="inboxes:write",
    status=201,
    body=CreatePrivateInbox,
)
async def create_teammate_private_inbox(req: Request) -> Response:
    """Create a private inbox for a teammate."""
    owner = await domain.teammate_owner(
        req.db, principal=req.principal, teammate_ref=req.path_params["teammate_id"]
    )
    body = await req.parse(CreatePrivateInbox)
    inbox = await domain.do_create_inbox(
        req.db,
        principal=req.principal,
        owner=owner,
        name=body.name,
        custom_field_values=body.custom_fields,
    )
    return json_response(inbox_json(req, inbox), 201)


@routes.get("/teams/{team_id}/inboxes", "list-team-inboxes", scope="inboxes:read")
async def list_team_inboxes(req: Request) -> Response:
    """List the inboxes of a team."""
    team = await access_team(req.db, principal=req.principal, ref=req.path_params["team_id"])
    return _inboxes(
        req, await domain.list_of_team(req.db, principal=req.principal, team_id=team.id)
    )


@routes.post(
    "/teams/{team_id}/inboxes",
    "create-team-inbox",
    scope="inboxes:write",
    status=201,
    body=CreateInbox,
)
async def create_team_inbox(req: Request) -> Response:
    """Create an inbox in a team."""
    owner = await domain.team_owner(
        req.db, principal=req.principal, team_ref=req.path_params["team_id"]
    )
    return await _create_shared(req, owner)
