"""Channels (Front tag "Channels"): listing, creating, updating and validating channels."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, StrictInt

from porch.api.http import Request, Response, accepted, json_response, no_content
from porch.api.models import Body, Name, Ref, ShortText
from porch.api.pagination import collection
from porch.api.routing import Routes
from porch.api.shapes import channel_json
from porch.domain import channels as domain
from porch.domain.inboxes import access_inbox
from porch.domain.teammates import access_teammate
from porch.domain.teams import access_team
from porch.store.channels import Channel

routes = Routes()

Url = Annotated[ShortText, Field(min_length=1, max_length=2048)]
Secret = Annotated[ShortText, Field(min_length=1, max_length=512)]
Address = Annotated[ShortText, Field(min_length=1, max_length=320)]


class UpdateSettings(Body):
    undo_send_time: StrictInt | None = None
    all_teammates_can_reply: bool | None = None
    webhook_url: Url | None = None


class CreateSettings(UpdateSettings):
    sid: Secret | None = None
    auth_token: Secret | None = None


class UpdateChannel(Body):
    name: Name | None = None
    inbox_id: Ref | None = None
    settings: UpdateSettings | None = None


class CreateChannel(Body):
    type: Literal["custom", "smtp", "twilio"]
    name: Name | None = None
    send_as: Address | None = None
    settings: CreateSettings | None = None
    application_uid: Ref | None = None
    credentials: Annotated[dict[Ref, Secret], Field(max_length=20)] | None = None


def _channels(req: Request, rows: list[Channel]) -> Response:
    # Front does not paginate channel lists: every channel is on the one page.
    return collection(req, [channel_json(req, c) for c in rows])


@routes.get("/channels", "list-channels", scope="channels:read")
async def list_channels(req: Request) -> Response:
    """List every channel the token can see."""
    return _channels(req, await domain.list_visible(req.db, principal=req.principal))


@routes.get("/channels/{channel_id}", "get-channel", scope="channels:read")
async def get_channel(req: Request) -> Response:
    """Fetch a channel by id or by ``alt:address:`` alias."""
    channel = await domain.access_channel(
        req.db, principal=req.principal, ref=req.path_params["channel_id"]
    )
    return json_response(channel_json(req, channel))


@routes.patch(
    "/channels/{channel_id}",
    "update-channel",
    scope="channels:write",
    status=204,
    body=UpdateChannel,
)
async def update_channel(req: Request) -> Response:
    """Update a channel's name or settings, or move it to another inbox."""
    channel = await domain.access_channel(
        req.db, principal=req.principal, ref=req.path_params["channel_id"]
    )
    body = await req.parse(UpdateChannel)
    changes = body.sent()
    if body.settings is not None:
        changes["settings"] = body.settings.sent()
    await domain.do_update_channel(
        req.db, principal=req.principal, channel=channel, changes=changes
    )
    return no_content()


@routes.post(
    "/channels/{channel_id}/validate", "validate-channel", scope="channels:write", status=202
)
async def validate_channel(req: Request) -> Response:
    """Validate a channel's settings (Front: asynchronously, answering 202 at once)."""
    channel = await domain.access_channel(
        req.db, principal=req.principal, ref=req.path_params["channel_id"]
    )
    await domain.do_validate_channel(req.db, principal=req.principal, channel=channel)
    return accepted()


@routes.post(
    "/inboxes/{inbox_id}/channels",
    "create-a-channel",
    scope="channels:write",
    status=204,
    body=CreateChannel,
)
async def create_a_channel(req: Request) -> Response:
    """Create a channel in an inbox (Front answers 204, without the channel)."""
    inbox = await access_inbox(req.db, principal=req.principal, ref=req.path_params["inbox_id"])
    body = await req.parse(CreateChannel)
    await domain.do_create_channel(
        req.db,
        principal=req.principal,
        inbox=inbox,
        type=body.type,
        name=body.name,
        send_as=body.send_as,
        settings=body.settings.sent() if body.settings is not None else None,
        application_uid=body.application_uid,
        credentials=body.credentials,
    )
    return no_content()


@routes.get("/teammates/{teammate_id}/channels", "list-teammate-channels", scope="channels:read")
async def list_teammate_channels(req: Request) -> Response:
    """List the channels of the inboxes a teammate reaches, as far as the token sees them."""
    teammate = await access_teammate(
        req.db, principal=req.principal, ref=req.path_params["teammate_id"]
    )
    rows = await domain.list_of_teammate(req.db, principal=req.principal, teammate_id=teammate.id)
    return _channels(req, rows)


@routes.get("/teams/{team_id}/channels", "list-team-channels", scope="channels:read")
async def list_team_channels(req: Request) -> Response:
    """List the channels of a team's inboxes."""
    team = await access_team(req.db, principal=req.principal, ref=req.path_params["team_id"])
    return _channels(
        req, await domain.list_of_team(req.db, principal=req.principal, team_id=team.id)
    )
