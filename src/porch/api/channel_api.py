"""The Channel API (Front's channel-api.json): what a partner calls on its channel.

A partner authenticates with a JWT signed with its application's secret
(``domain/channel_jwt.py``); ``app.py`` sends a request whose bearer is a JWT to
``channel_api_jwt.jwt_operation``, which allows the Channel API's routes, the Core API's routes
under ``/conversations/{id}`` and ``/messages/{id}`` (the channel's conversations only) and, for
``PATCH /channels/{id}``, the Channel API's update-channel (``{"status": "ok"|"offline"}``)
instead of the Core API's. Porch also accepts a company API token that sees the channel on the
Channel API's routes (Front does not): an admin can replay what a partner would send.

This module serves the tag "Messages" and holds what the others share (the body fields, the
channel a path names); ``channel_api_calls`` serves "Calls", ``channel_api_templates``
"Application Message Templates". Porch's admin routes for partner channels are
``admin_partner_channels``.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, StrictInt

from porch.api import multipart
from porch.api.http import Request, Response, json_response, no_content
from porch.api.models import Body, Name, Ref, ShortText, Text
from porch.api.routing import Routes
from porch.domain.channel_api import messages as messages_domain
from porch.domain.channel_api import partner as partner_domain
from porch.domain.teammates import access_teammate
from porch.store.channels import Channel

routes = Routes()

Handle = Annotated[ShortText, Field(min_length=1, max_length=512)]
ExternalId = Annotated[ShortText, Field(min_length=1, max_length=200)]
Email = Annotated[ShortText, Field(min_length=3, max_length=320)]


class Party(Body):
    handle: Handle
    name: Name | None = None
    email: Email | None = None


class SyncMetadata(Body):
    external_id: ExternalId
    external_conversation_id: ExternalId
    referenced_message_external_id: ExternalId | None = None


class InboundMessage(Body):
    sender: Party
    body: Text
    subject: ShortText | None = None
    delivered_at: StrictInt | None = None
    metadata: SyncMetadata


class OutboundMessage(Body):
    to: Annotated[list[Party], Field(min_length=1, max_length=100)]
    sender_name: Name | None = None
    author_id: Ref | None = None
    body: Text
    subject: ShortText | None = None
    delivered_at: StrictInt | None = None
    metadata: SyncMetadata


class MessageStatus(Body):
    status: Literal["failed"]
    reason: Annotated[ShortText, Field(max_length=1000)] | None = None


async def partner_channel(req: Request) -> Channel:
    """The channel the path's ``channel_id`` names, as its Channel API routes reach it."""
    return await partner_domain.access_partner_channel(
        req.db, principal=req.principal, ref=req.path_params["channel_id"]
    )


def _accepted(uid: str) -> Response:
    return json_response({"status": "accepted", "message_uid": uid}, 202)


@routes.post(
    "/channels/{channel_id}/inbound_messages",
    "sync-inbound-message",
    scope="messages:write",
    status=202,
    body=InboundMessage,
)
async def sync_inbound_message(req: Request) -> Response:
    """Accept a message a customer sent on the partner's side (threaded by external ids)."""
    channel = await partner_channel(req)
    body, files = await multipart.parse_with_files(req, InboundMessage)
    s, meta = body.sender, body.metadata
    uid = await messages_domain.do_accept_message(
        req.db,
        principal=req.principal,
        channel=channel,
        is_inbound=True,
        people=[(s.handle, s.name, s.email)],
        sender_name=None,
        author_id=None,
        body=body.body,
        subject=body.subject,
        delivered_at=body.delivered_at,
        external_id=meta.external_id,
        external_conversation_id=meta.external_conversation_id,
        referenced_message_external_id=meta.referenced_message_external_id,
        files=files,
    )
    req.app.wake_intake()
    return _accepted(uid)


@routes.post(
    "/channels/{channel_id}/outbound_messages",
    "sync-outbound-message",
    scope="messages:write",
    status=202,
    body=OutboundMessage,
)
async def sync_outbound_message(req: Request) -> Response:
    """Accept a message sent from the partner's side (recorded as sent, not delivered again)."""
    channel = await partner_channel(req)
    body, files = await multipart.parse_with_files(req, OutboundMessage)
    author = None
    if body.author_id is not None:
        author = (await access_teammate(req.db, principal=req.principal, ref=body.author_id)).id
    meta = body.metadata
    uid = await messages_domain.do_accept_message(
        req.db,
        principal=req.principal,
        channel=channel,
        is_inbound=False,
        people=[(p.handle, p.name, p.email) for p in body.to],
        sender_name=body.sender_name,
        author_id=author,
        body=body.body,
        subject=body.subject,
        delivered_at=body.delivered_at,
        external_id=meta.external_id,
        external_conversation_id=meta.external_conversation_id,
        referenced_message_external_id=meta.referenced_message_external_id,
        files=files,
    )
    req.app.wake_intake()
    return _accepted(uid)


@routes.put(
    "/channels/{channel_id}/conversations/{conv_ext_id}/messages/{message_ext_id}/status",
    "update-external-message-status",
    scope="messages:write",
    status=204,
    body=MessageStatus,
)
async def update_external_message_status(req: Request) -> Response:
    """The partner could not deliver a message: marked failed, its conversation reopened."""
    channel = await partner_channel(req)
    body = await req.parse(MessageStatus)
    await messages_domain.do_mark_failed(
        req.db,
        principal=req.principal,
        channel=channel,
        conversation_external_id=req.path_params["conv_ext_id"],
        message_external_id=req.path_params["message_ext_id"],
        reason=body.reason,
    )
    return no_content()
