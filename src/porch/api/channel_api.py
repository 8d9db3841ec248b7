"""The Channel API (Front's channel-api.json): what a partner calls on its channel.

A partner authenticates with a JWT signed with its application's secret
(``domain/channel_jwt.py``); ``app.py`` sends a request whose bearer is a JWT to
``jwt_operation``, which allows the routes here, the Core API's routes under
``/conversations/{id}`` and ``/messages/{id}`` (the channel's conversations only) and, for
``PATCH /channels/{id}``, the Channel API's update-channel (``{"status": "ok"|"offline"}``)
instead of the Core API's. Porch also
accepts a company API token that sees the channel on the routes here (Front does not): an
admin can replay what a partner would send.

The Porch admin routes at the end unlink a partner channel (``delete`` to the partner) and show
the secret a plain custom channel's webhooks are signed with.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, StrictBool, StrictFloat, StrictInt

from porch import ids
from porch.api import multipart
from porch.api.http import Request, Response, accepted, json_response, no_content
from porch.api.models import Body, Name, Ref, ShortText, Text
from porch.api.routing import Operation, Routes
from porch.domain import partner_channels
from porch.domain.channel_api import calls as calls_domain
from porch.domain.channel_api import messages as messages_domain
from porch.domain.channel_api import partner as partner_domain
from porch.domain.channel_api import templates as templates_domain
from porch.domain.channels import access_channel
from porch.domain.errors import BadRequest, Unauthorized
from porch.domain.teammates import access_teammate
from porch.store import channel_api as channel_api_store
from porch.store.channels import Channel

routes = Routes()

Handle = Annotated[ShortText, Field(min_length=1, max_length=512)]
ExternalId = Annotated[ShortText, Field(min_length=1, max_length=200)]
Email = Annotated[ShortText, Field(min_length=3, max_length=320)]
Number = StrictInt | StrictFloat


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


class CallParty(Body):
    handle: Handle
    name: Name | None = None


class CreateCall(Body):
    external_call_id: ExternalId
    initial_status: Literal["queued", "ringing"]
    direction: Literal["inbound", "outbound"]
    parent_external_call_id: Annotated[ShortText, Field(max_length=200)]
    started_at: Number | None = None
    agent_email_address: Email | None = None
    # ``from`` is a Python keyword.
    from_: CallParty | None = Field(default=None, alias="from")
    to: CallParty | None = None


class UpdateCall(Body):
    call_status: Literal[
        "queued", "ringing", "connected", "hold", "hangup", "abandoned", "missed", "transferred"
    ]
    occurred_at: Number | None = None
    agent_email_address: Email | None = None


class CallSummary(Body):
    content: Annotated[Text, Field(min_length=1)]


class TranscriptLine(Body):
    speaker_name: Name
    content: Text
    start_time_seconds: Number
    speaker_type: Literal["internal", "external"]


class CallTranscript(Body):
    lines: Annotated[list[TranscriptLine], Field(min_length=1, max_length=10_000)]


class CallRecording(Body):
    recording_type: Literal["call", "voicemail"]


class VariableMapping(Body):
    uid: ShortText
    name: ShortText
    type: ShortText


class TemplateEdit(Body):
    name: Name | None = None
    blurb: ShortText | None = None
    is_disabled: StrictBool | None = None
    status_name: Annotated[ShortText, Field(max_length=50)] | None = None
    variable_mappings: Annotated[list[VariableMapping], Field(max_length=100)] | None = None
    template_preview: Text | None = None


class TemplateSync(Body):
    external_id: ExternalId
    name: Name
    blurb: ShortText
    is_disabled: StrictBool
    status_name: Annotated[ShortText, Field(max_length=50)]
    variable_mappings: Annotated[list[VariableMapping], Field(max_length=100)]
    template_preview: Text


class ChannelStatus(Body):
    status: Literal["offline", "ok"] | None = None


async def _channel(req: Request) -> Channel:
    return await partner_domain.access_partner_channel(
        req.db, principal=req.principal, ref=req.path_params["channel_id"]
    )


def _accepted(uid: str) -> Response:
    return json_response({"status": "accepted", "message_uid": uid}, 202)


def _timestamp_ms(value: float | None) -> int | None:
    if value is None:
        return None
    if not 0 <= value < 16_725_225_600_000:
        raise BadRequest("Times in the Channel API are Unix milliseconds")
    return round(value)


@routes.post(
    "/channels/{channel_id}/inbound_messages",
    "sync-inbound-message",
    scope="messages:write",
    status=202,
    body=InboundMessage,
)
async def sync_inbound_message(req: Request) -> Response:
    """Accept a message a customer sent on the partner's side (threaded by external ids)."""
    channel = await _channel(req)
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
    channel = await _channel(req)
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
    channel = await _channel(req)
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


@routes.post(
    "/channels/{channel_id}/calls",
    "create-call",
    scope="channels:write",
    status=202,
    body=CreateCall,
)
async def create_call(req: Request) -> Response:
    """Record a call (a message of type call in its conversation)."""
    channel = await _channel(req)
    body = await req.parse(CreateCall)
    party = body.from_ if body.direction == "inbound" else body.to
    if party is None:
        wanted = "from" if body.direction == "inbound" else "to"
        raise BadRequest(f"A call of direction {body.direction} needs {wanted!r}")
    await calls_domain.do_create_call(
        req.db,
        principal=req.principal,
        channel=channel,
        external_call_id=body.external_call_id,
        direction=body.direction,
        initial_status=body.initial_status,
        handle=party.handle,
        name=party.name,
        started_at=_timestamp_ms(body.started_at),
        parent_external_call_id=body.parent_external_call_id,
    )
    req.app.wake_intake()
    return accepted()


async def _call(req: Request, channel: Channel) -> dict[str, Any]:
    """The call the path names (looked up once the body is read: a bad body is a 400 or 413
    whether or not the call exists)."""
    return await calls_domain.access_call(
        req.db,
        principal=req.principal,
        channel=channel,
        external_call_id=req.path_params["external_call_id"],
    )


@routes.patch(
    "/channels/{channel_id}/calls/{external_call_id}",
    "update-call",
    scope="channels:write",
    status=202,
    body=UpdateCall,
)
async def update_call(req: Request) -> Response:
    """A call changed status (logged as Front's call_* event on its conversation)."""
    channel = await _channel(req)
    body = await req.parse(UpdateCall)
    call = await _call(req, channel)
    data: dict[str, Any] = {"call_status": body.call_status}
    if body.occurred_at is not None:
        data["occurred_at"] = _timestamp_ms(body.occurred_at)
    if body.agent_email_address is not None:
        data["agent_email_address"] = body.agent_email_address
    await calls_domain.do_call_event(
        req.db, principal=req.principal, channel=channel, call=call, op="status", data=data
    )
    req.app.wake_intake()
    return accepted()


@routes.post(
    "/channels/{channel_id}/calls/{external_call_id}/recording",
    "add-call-recording",
    scope="channels:write",
    status=202,
    body=CallRecording,
)
async def add_call_recording(req: Request) -> Response:
    """Attach a recording (one audio file) to the call's message."""
    channel = await _channel(req)
    if not multipart.is_multipart(req):
        await req.parse(CallRecording)  # a JSON body: 400/413 for what is wrong with it first
        raise BadRequest("A recording is sent as multipart/form-data")
    body, files = await multipart.parse_with_files(req, CallRecording)
    call = await _call(req, channel)
    if len(files) != 1 or not files[0].content_type.startswith("audio/"):
        raise BadRequest("attachments must be exactly one audio file (audio/*)")
    await calls_domain.do_call_event(
        req.db,
        principal=req.principal,
        channel=channel,
        call=call,
        op="recording",
        data={"recording_type": body.recording_type, "filename": files[0].filename},
        files=files,
    )
    req.app.wake_intake()
    return accepted()


@routes.post(
    "/channels/{channel_id}/calls/{external_call_id}/summary",
    "add-call-summary",
    scope="channels:write",
    status=202,
    body=CallSummary,
)
async def add_call_summary(req: Request) -> Response:
    """Add a summary to a call."""
    channel = await _channel(req)
    body = await req.parse(CallSummary)
    call = await _call(req, channel)
    await calls_domain.do_call_event(
        req.db,
        principal=req.principal,
        channel=channel,
        call=call,
        op="summary",
        data={"content": body.content},
    )
    req.app.wake_intake()
    return accepted()


@routes.post(
    "/channels/{channel_id}/calls/{external_call_id}/transcript",
    "add-call-transcript",
    scope="channels:write",
    status=202,
    body=CallTranscript,
)
async def add_call_transcript(req: Request) -> Response:
    """Add a transcript to a call (Front's call_transcript_added)."""
    channel = await _channel(req)
    body = await req.parse(CallTranscript)
    call = await _call(req, channel)
    lines = [line.model_dump() for line in body.lines]
    await calls_domain.do_call_event(
        req.db,
        principal=req.principal,
        channel=channel,
        call=call,
        op="transcript",
        data={"lines": lines},
    )
    req.app.wake_intake()
    return accepted()


@routes.put(
    "/channels/{channel_id}/application_message_templates",
    "sync-application-message-template",
    scope="message_templates:write",
    body=TemplateSync,
)
async def sync_application_message_template(req: Request) -> Response:
    """Create or replace one of the channel's application message templates."""
    channel = await _channel(req)
    body = await req.parse(TemplateSync)
    fields = body.model_dump(exclude={"external_id"})
    key = await templates_domain.do_sync_template(
        req.db,
        principal=req.principal,
        channel=channel,
        external_id=body.external_id,
        fields=fields,
    )
    return json_response({"template_id": key})


@routes.patch(
    "/channels/{channel_id}/application_message_templates/{external_id}",
    "update-application-message-template",
    scope="message_templates:write",
    body=TemplateEdit,
)
async def update_application_message_template(req: Request) -> Response:
    """Change some fields of one of the channel's application message templates."""
    channel = await _channel(req)
    body = await req.parse(TemplateEdit)
    fields = {k: v for k, v in body.model_dump().items() if k in body.model_fields_set}
    if any(v is None for v in fields.values()):
        raise BadRequest("Template fields cannot be null")
    key = await templates_domain.do_update_template(
        req.db,
        principal=req.principal,
        channel=channel,
        external_id=req.path_params["external_id"],
        fields=fields,
    )
    return json_response({"template_id": key})


async def update_channel_status(req: Request) -> Response:
    """The Channel API's update-channel: the partner reports its channel ok or offline."""
    channel = await _channel(req)
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
_JWT_OPERATIONS = frozenset(op.operation_id for op in routes.operations)
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


# --- Porch's admin routes ---------------------------------------------------------------------


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
