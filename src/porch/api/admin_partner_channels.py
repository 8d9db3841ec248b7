"""Porch's admin API for partner channels: unlinking one from its application (``delete`` to the
partner), and the secret a plain custom channel's webhooks are signed with."""

from __future__ import annotations

from porch import ids
from porch.api.http import Request, Response, json_response, no_content
from porch.api.routing import Routes
from porch.domain import partner_channels
from porch.domain.channel_api import partner as partner_domain
from porch.domain.channels import access_channel
from porch.domain.errors import Unauthorized
from porch.store import channel_api as channel_api_store

routes = Routes()


@routes.delete(
    "/porch/channels/{channel_id}/partner",
    "porch-delete-partner-channel",
    scope=None,
    status=204,
    front=False,
)
async def porch_delete_partner_channel(req: Request) -> Response:
    """Unlink a partner channel from its application; the partner gets ``delete``."""
    req.principal.require("delete")
    if req.principal.partner_channel_id is not None:
        raise Unauthorized("A channel JWT cannot delete its channel")
    channel = await access_channel(
        req.db, principal=req.principal, ref=req.path_params["channel_id"]
    )
    await partner_channels.do_delete_partner(req.db, principal=req.principal, channel=channel)
    return no_content()


@routes.get(
    "/porch/channels/{channel_id}/webhook_secret",
    "porch-get-channel-webhook-secret",
    scope=None,
    front=False,
)
async def porch_get_channel_webhook_secret(req: Request) -> Response:
    """The secret a custom channel's webhooks are signed with (its app's for a partner
    channel, else its own)."""
    req.principal.require_provisioning()
    channel = await access_channel(
        req.db, principal=req.principal, ref=req.path_params["channel_id"]
    )
    partner_domain.check_custom(channel)
    secret = await partner_channels.signing_secret(req.db, channel=channel)
    partner = await channel_api_store.partner(
        req.db, company_id=channel.company_id, channel_id=channel.id
    )
    return json_response(
        {
            "channel_id": ids.encode(ids.CHANNEL, channel.id),
            "secret": None if partner is not None else secret,
            "signed_with": "application" if partner is not None else "channel",
        }
    )
