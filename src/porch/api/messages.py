"""Messages (Front tag "Messages"): receiving on custom channels, importing, fetching (as JSON
or as an EML file), sending, and seen receipts.

Receiving, importing and sending take files as ``multipart/form-data`` (see api/multipart.py).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import Field, StrictInt

from porch import ids
from porch.api import multipart
from porch.api.http import Request, Response, json_response, no_content
from porch.api.models import Body, Name, Ref, ShortText, Text
from porch.api.pagination import collection
from porch.api.routing import Routes
from porch.api.shapes import message_json
from porch.domain import eml, incoming, outbound, seen
from porch.domain import messages as domain
from porch.domain.channels import access_channel
from porch.domain.conversations import access_conversation
from porch.domain.inboxes import access_inbox
from porch.domain.message_writes import Person
from porch.store.attachments import StoredFile
from porch.store.seen import ANYONE, Receipt

routes = Routes()

Handle = Annotated[ShortText, Field(min_length=1, max_length=512)]
Handles = Annotated[list[Handle], Field(max_length=1000)]
Subject = Annotated[ShortText, Field(max_length=1000)]


def _accepted(uid: str) -> Response:
    """Front's 202 for a message taken on; the message is already stored."""
    return json_response({"status": "accepted", "message_uid": uid}, 202)


class Sender(Body):
    handle: Handle
    name: Name | None = None
    # Front resolves the sender by handle; a contact id is accepted and not needed.
    contact_id: Ref | None = None


class IncomingMetadata(Body):
    thread_ref: Annotated[ShortText, Field(min_length=1, max_length=512)] | None = None
    headers: dict[str, Any] | None = None


class IncomingMessage(Body):
    sender: Sender
    body: Text
    subject: Subject | None = None
    body_format: Literal["html", "markdown"] = "markdown"
    metadata: IncomingMetadata | None = None


@routes.post(
    "/channels/{channel_id}/incoming_messages",
    "receive-custom-messages",
    scope="messages:write",
    status=202,
    body=IncomingMessage,
    burst=("tier2", "channel_id"),
)
async def receive_custom_messages(req: Request) -> Response:
    """Accept a message on a custom channel; the intake worker threads it (by thread_ref or
    by sender) right after."""
    # Access first: another company's channel is a 404 whatever the body.
    channel = await access_channel(
        req.db, principal=req.principal, ref=req.path_params["channel_id"]
    )
    body, files = await multipart.parse_with_files(req, IncomingMessage)
    meta = body.metadata
    uid = await incoming.do_accept_custom(
        req.db,
        principal=req.principal,
        channel=channel,
        sender=Person(body.sender.handle, body.sender.name),
        body=body.body,
        subject=body.subject,
        body_format=body.body_format,
        thread_ref=meta.thread_ref if meta else None,
        headers=meta.headers if meta else None,
        files=files,
    )
    req.app.wake_intake()
    return _accepted(uid)


class ImportSender(Body):
    handle: Handle
    name: Name | None = None
    author_id: Ref | None = None


class ImportMetadata(Body):
    is_inbound: bool
    thread_ref: Annotated[ShortText, Field(min_length=1, max_length=512)] | None = None
    is_archived: bool = True
    should_skip_rules: bool = True


class ImportMessage(Body):
    sender: ImportSender
    to: Handles
    cc: Handles = []
    bcc: Handles = []
    subject: Subject | None = None
    body: Text
    body_format: Literal["html", "markdown"] = "markdown"
    external_id: Annotated[ShortText, Field(min_length=1, max_length=512)]
    created_at: StrictInt
    type: Literal["email", "sms", "intercom", "custom"] = "email"
    assignee_id: Ref | None = None
    tags: Annotated[list[Name], Field(max_length=100)] = []
    conversation_id: Ref | None = None
    metadata: ImportMetadata


@routes.post(
    "/inboxes/{inbox_id}/imported_messages",
    "import-inbox-message",
    scope="messages:write",
    status=202,
    body=ImportMessage,
)
async def import_inbox_message(req: Request) -> Response:
    """Import a message into an inbox; an external_id imported before answers the same uid."""
    inbox = await access_inbox(req.db, principal=req.principal, ref=req.path_params["inbox_id"])
    body, files = await multipart.parse_with_files(req, ImportMessage)
    msg = await incoming.do_import(
        req.db,
        principal=req.principal,
        inbox=inbox,
        type=body.type,
        sender=Person(body.sender.handle, body.sender.name),
        author_ref=body.sender.author_id,
        to=list(body.to),
        cc=list(body.cc),
        bcc=list(body.bcc),
        subject=body.subject,
        body=body.body,
        body_format=body.body_format,
        external_id=body.external_id,
        created_at=body.created_at,
        assignee_ref=body.assignee_id,
        tag_names=list(body.tags),
        conversation_ref=body.conversation_id,
        is_inbound=body.metadata.is_inbound,
        thread_ref=body.metadata.thread_ref,
        is_archived=body.metadata.is_archived,
        files=files,
        skip_rules=body.metadata.should_skip_rules,
    )
    return _accepted(msg.uid)


def wants_eml(accept: str | None) -> bool:
    """Whether an ``Accept`` header asks for ``message/rfc822`` at least as much as for JSON
    (only an explicit ``message/rfc822`` counts: ``*/*`` or no header is JSON)."""
    quality = {"message/rfc822": 0.0, "application/json": 0.0}
    for part in (accept or "").split(","):
        media, _, params = part.partition(";")
        media = media.strip().lower()
        if media not in quality:
            continue
        q = 1.0
        for param in params.split(";"):
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        quality[media] = max(quality[media], q)
    return (
        quality["message/rfc822"] > 0 and quality["message/rfc822"] >= quality["application/json"]
    )


@routes.get("/messages/{message_id}", "get-message", scope="messages:read")
async def get_message(req: Request) -> Response:
    """Fetch a message by id or by ``alt:uid:<message_uid>`` (404 until it exists); with
    ``Accept: message/rfc822``, an email message as its EML file (406 for other types)."""
    msg = await domain.access_message(
        req.db, principal=req.principal, ref=req.path_params["message_id"]
    )
    [view] = await domain.views(req.db, principal=req.principal, msgs=[msg])
    if wants_eml(req.header("accept")):
        eml.check_exportable(view)
        data = await eml.export(req.db, req.app.blobs, view=view)
        return Response(200, data, eml.MEDIA_TYPE, headers=[("vary", "accept")])
    resp = json_response(message_json(req, view))
    resp.headers.append(("vary", "accept"))
    return resp


# --- Seen receipts --------------------------------------------------------------------------


class MarkSeen(Body):
    """Front's body is an empty object: the mark names no viewer."""


def _seen_at(ms: int) -> str:
    # The spec types first_seen_at as a string: an ISO 8601 UTC time to the millisecond.
    return datetime.fromtimestamp(ms / 1000, UTC).isoformat(timespec="milliseconds")[:-6] + "Z"


def receipt_json(req: Request, receipt: Receipt) -> dict[str, Any]:
    message = f"{req.base_url}/messages/{ids.encode(ids.MESSAGE, receipt.message_id)}"
    return {
        "_links": {"self": message + "/seen", "related": {"message": message}},
        "first_seen_at": _seen_at(receipt.first_seen_at),
        "seen_by": (
            None
            if receipt.handle == ANYONE
            else {"handle": receipt.handle, "source": receipt.source}
        ),
    }


@routes.get("/messages/{message_id}/seen", "get-message-seen-status", scope="messages:read")
async def get_message_seen_status(req: Request) -> Response:
    """The seen receipts of a message: one "first seen" entry once it was marked seen."""
    msg = await domain.access_message(
        req.db, principal=req.principal, ref=req.path_params["message_id"]
    )
    receipts = await seen.list_receipts(req.db, principal=req.principal, message=msg)
    return collection(req, [receipt_json(req, r) for r in receipts], None)


@routes.post(
    "/messages/{message_id}/seen",
    "mark-message-seen",
    scope="messages:write",
    status=204,
    body=MarkSeen,
)
async def mark_message_seen(req: Request) -> Response:
    """Mark an outbound message seen (400 for an inbound one); the first time is kept."""
    msg = await domain.access_message(
        req.db, principal=req.principal, ref=req.path_params["message_id"]
    )
    await req.parse(MarkSeen)
    await seen.do_mark_seen(req.db, principal=req.principal, message=msg)
    return no_content()


# --- Sending --------------------------------------------------------------------------------


class SendOptions(Body):
    tag_ids: Annotated[list[Ref], Field(max_length=100)] = []
    archive: bool = True


class OutboundMessage(Body):
    to: Handles = []
    cc: Handles = []
    bcc: Handles = []
    sender_name: Name | None = None
    subject: Subject | None = None
    author_id: Ref | None = None
    body: Text
    # Front's text version of an email body; Porch derives the text from the body.
    text: Text | None = None
    options: SendOptions | None = None
    signature_id: Ref | None = None
    should_add_default_signature: bool = False


class OutboundReplyMessage(OutboundMessage):
    channel_id: Ref | None = None
    quote_body: Text | None = None


def _outgoing(body: OutboundMessage, files: list[StoredFile]) -> outbound.Outgoing:
    options = body.options or SendOptions()
    return outbound.Outgoing(
        to=list(body.to),
        cc=list(body.cc),
        bcc=list(body.bcc),
        sender_name=body.sender_name,
        subject=body.subject,
        author_ref=body.author_id,
        body=body.body,
        archive=options.archive,
        tag_refs=list(options.tag_ids),
        signature_ref=body.signature_id,
        files=files,
        default_signature=body.should_add_default_signature,
    )


@routes.post(
    "/channels/{channel_id}/messages",
    "create-message",
    scope="messages:send",
    status=202,
    body=OutboundMessage,
)
async def create_message(req: Request) -> Response:
    """Send a message in a new conversation of the channel's inbox; stored before the 202."""
    channel = await access_channel(
        req.db, principal=req.principal, ref=req.path_params["channel_id"]
    )
    body, files = await multipart.parse_with_files(req, OutboundMessage)
    msg = await outbound.do_send(
        req.db,
        principal=req.principal,
        channel=channel,
        conversation=None,
        out=_outgoing(body, files),
    )
    return _accepted(msg.uid)


@routes.post(
    "/conversations/{conversation_id}/messages",
    "create-message-reply",
    scope="messages:send",
    status=202,
    body=OutboundReplyMessage,
)
async def create_message_reply(req: Request) -> Response:
    """Reply in a conversation, on channel_id or the channel of its latest message."""
    conversation = await access_conversation(
        req.db, principal=req.principal, ref=req.path_params["conversation_id"]
    )
    body, files = await multipart.parse_with_files(req, OutboundReplyMessage)
    named = None
    if body.channel_id is not None:
        named = await access_channel(req.db, principal=req.principal, ref=body.channel_id)
    channel = await outbound.reply_channel(
        req.db, principal=req.principal, conversation=conversation, channel=named
    )
    msg = await outbound.do_send(
        req.db,
        principal=req.principal,
        channel=channel,
        conversation=conversation,
        out=_outgoing(body, files),
    )
    return _accepted(msg.uid)
