"""Which operation a request authenticated by a channel JWT runs (``app.py`` asks
``jwt_operation``), and the Channel API's update-channel (Front tag "Channels"), which only a
JWT reaches: it has the Core API's method and path."""

from __future__ import annotations

from typing import Literal

from porch.api import channel_api, channel_api_calls, channel_api_templates
from porch.api.http import Request, Response, no_content
from porch.api.models import Body
from porch.api.routing import Operation
from porch.domain.channel_api import partner as partner_domain
from porch.domain.errors import Unauthorized


class ChannelStatus(Body):
    status: Literal["offline", "ok"] | None = None


async def update_channel_status(req: Request) -> Response:
    """The Channel API's update-channel: the partner reports its channel ok or offline."""
    channel = await channel_api.partner_channel(req)
    body = await req.parse(ChannelStatus)
    if body.status is not None:
        await partner_domain.do_set_status(
            req.db, principal=req.principal, channel=channel, status=body.status
        )
    return no_content()


# The Channel API's update-channel: same method and path as the Core API's, so it is not in the
# router; ``jwt_operation`` hands it a request whose bearer is a channel JWT.
_JWT_UPDATE_CHANNEL = Operation(
    "PATCH",
    "/channels/{channel_id}",
    "update-channel",
    update_channel_status,
    "channels:write",
    204,
    body=ChannelStatus,
)
# Every route of the Channel API's modules (not Porch's admin routes for partner channels).
_JWT_OPERATIONS = frozenset(
    op.operation_id
    for module in (channel_api, channel_api_calls, channel_api_templates)
    for op in module.routes.operations
)
# Front: "the same JWT also works on /conversations/:id* and /messages/:id*, limited to that
# channel's conversations". The limit is the principal's (``Principal.partner_channel_id``),
# applied by the access layer like any token's namespaces; lists (/conversations) are refused.
_JWT_CORE_PREFIXES = ("/conversations/{conversation_id}", "/messages/{message_id}")


def jwt_operation(op: Operation) -> Operation:
    """The operation a request authenticated by a channel JWT runs instead of ``op``: the
    Channel API's own, or a Core API route under one conversation or message; any other route
    refuses the JWT (401)."""
    if op.operation_id in _JWT_OPERATIONS:
        return op
    if op.operation_id == "update-channel":
        return _JWT_UPDATE_CHANNEL
    if op.front and op.path.startswith(_JWT_CORE_PREFIXES):
        return op
    raise Unauthorized(
        "A channel JWT authenticates only the Channel API routes of its channel and the "
        "routes of its channel's conversations and messages"
    )
