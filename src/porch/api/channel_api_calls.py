"""The Channel API's calls (Front tag "Calls"): a call is recorded as a message of type call, and
its status changes, recording, summary and transcript follow as events on its conversation."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, StrictFloat, StrictInt

from porch.api import multipart
from porch.api.channel_api import Email, ExternalId, Handle, partner_channel
from porch.api.http import Request, Response, accepted
from porch.api.models import Body, Name, ShortText, Text
from porch.api.routing import Routes
from porch.domain.channel_api import calls as calls_domain
from porch.domain.errors import BadRequest
from porch.store.channels import Channel

routes = Routes()

Number = StrictInt | StrictFloat


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


def _timestamp_ms(value: float | None) -> int | None:
    if value is None:
        return None
    if not 0 <= value < 16_725_225_600_000:
        raise BadRequest("Times in the Channel API are Unix milliseconds")
    return round(value)


@routes.post(
    "/channels/{channel_id}/calls",
    "create-call",
    scope="channels:write",
    status=202,
    body=CreateCall,
)
async def create_call(req: Request) -> Response:
    """Record a call (a message of type call in its conversation)."""
    channel = await partner_channel(req)
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
    channel = await partner_channel(req)
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
    channel = await partner_channel(req)
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
    channel = await partner_channel(req)
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
    channel = await partner_channel(req)
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
