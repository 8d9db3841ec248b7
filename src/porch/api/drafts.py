"""Drafts (Front tag "Drafts"): create, reply, list, edit and delete unsent messages.

Creating a draft takes files as ``multipart/form-data`` (api/multipart.py); Front's edit does
not declare attachments, so an edit is JSON only and keeps the draft's files.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from porch.api import multipart
from porch.api.http import Request, Response, json_response, no_content
from porch.api.models import Body, Ref, ShortText, Text
from porch.api.pagination import collection
from porch.api.routing import Routes
from porch.api.shapes import message_json
from porch.domain import drafts as domain
from porch.domain.channels import access_channel
from porch.domain.conversations import access_conversation
from porch.domain.errors import BadRequest
from porch.domain.messages import views
from porch.store.messages import Message

routes = Routes()

Handle = Annotated[ShortText, Field(min_length=1, max_length=512)]
Handles = Annotated[list[Handle], Field(max_length=1000)]
Subject = Annotated[ShortText, Field(max_length=1000)]
Version = Annotated[ShortText, Field(min_length=1, max_length=200)]


class CreateDraft(Body):
    author_id: Ref | None = None
    to: Handles = []
    cc: Handles = []
    bcc: Handles = []
    subject: Subject | None = None
    body: Text
    # quote_body, signature_id and should_add_default_signature are accepted and not kept.
    mode: Literal["private", "shared"] = "private"


class ReplyDraft(CreateDraft):
    channel_id: Ref


class EditDraft(Body):
    author_id: Ref | None = None
    to: Handles | None = None
    cc: Handles | None = None
    bcc: Handles | None = None
    subject: Subject | None = None
    body: Text
    channel_id: Ref
    version: Version
    mode: Literal["private", "shared"] | None = None


class DeleteDraft(Body):
    version: Version


def _recipients(body: CreateDraft) -> domain.Recipients:
    return domain.Recipients(to=list(body.to), cc=list(body.cc), bcc=list(body.bcc))


async def _answer(req: Request, draft: Message) -> Response:
    [view] = await views(req.db, principal=req.principal, msgs=[draft])
    return json_response(message_json(req, view))


@routes.post(
    "/channels/{channel_id}/drafts", "create-draft", scope="drafts:write", body=CreateDraft
)
async def create_draft(req: Request) -> Response:
    """Write a draft on a channel, in a new conversation of the channel's inbox."""
    channel = await access_channel(
        req.db, principal=req.principal, ref=req.path_params["channel_id"]
    )
    body, files = await multipart.parse_with_files(req, CreateDraft)
    draft = await domain.do_create_draft(
        req.db,
        principal=req.principal,
        channel=channel,
        conversation=None,
        author_ref=body.author_id,
        recipients=_recipients(body),
        subject=body.subject,
        body=body.body,
        mode=body.mode,
        files=files,
    )
    return await _answer(req, draft)


@routes.post(
    "/conversations/{conversation_id}/drafts",
    "create-draft-reply",
    scope="drafts:write",
    body=ReplyDraft,
)
async def create_draft_reply(req: Request) -> Response:
    """Write a draft reply into a conversation, to be sent from the channel named."""
    conv = await access_conversation(
        req.db, principal=req.principal, ref=req.path_params["conversation_id"]
    )
    body, files = await multipart.parse_with_files(req, ReplyDraft)
    channel = await access_channel(req.db, principal=req.principal, ref=body.channel_id)
    draft = await domain.do_create_draft(
        req.db,
        principal=req.principal,
        channel=channel,
        conversation=conv,
        author_ref=body.author_id,
        recipients=_recipients(body),
        subject=body.subject,
        body=body.body,
        mode=body.mode,
        files=files,
    )
    return await _answer(req, draft)


@routes.get(
    "/conversations/{conversation_id}/drafts", "list-conversation-drafts", scope="drafts:read"
)
async def list_conversation_drafts(req: Request) -> Response:
    """The drafts of a conversation the token sees, oldest first, in one page."""
    conv = await access_conversation(
        req.db, principal=req.principal, ref=req.path_params["conversation_id"]
    )
    found = await domain.list_drafts(req.db, principal=req.principal, conversation=conv)
    return collection(req, [message_json(req, v) for v in found], None)


@routes.patch("/drafts/{message_id}/", "edit-draft", scope="drafts:write", body=EditDraft)
async def edit_draft(req: Request) -> Response:
    """Rewrite a draft at its current version (409 when the version is stale)."""
    is_form = multipart.is_multipart(req)
    if not is_form:
        # An oversized body is a 413 whatever the path names; the parse comes after access.
        await req.body()
    draft = await domain.access_draft(
        req.db, principal=req.principal, ref=req.path_params["message_id"]
    )
    if is_form:
        raise BadRequest("Editing a draft takes a JSON body: its files cannot be changed")
    body = await req.parse(EditDraft)
    channel = await access_channel(req.db, principal=req.principal, ref=body.channel_id)
    recipients = None
    if body.to is not None or body.cc is not None or body.bcc is not None:
        recipients = domain.Recipients(
            to=list(body.to or []), cc=list(body.cc or []), bcc=list(body.bcc or [])
        )
    updated = await domain.do_edit_draft(
        req.db,
        principal=req.principal,
        draft=draft,
        channel=channel,
        author_ref=body.author_id,
        recipients=recipients,
        subject=body.subject,
        body=body.body,
        version=body.version,
        mode=body.mode,
    )
    return await _answer(req, updated)


@routes.delete(
    "/drafts/{draft_id}", "delete-draft", scope="drafts:delete", status=204, body=DeleteDraft
)
async def delete_draft(req: Request) -> Response:
    """Delete a draft at its current version (409 when the version is stale)."""
    draft = await domain.access_draft(
        req.db, principal=req.principal, ref=req.path_params["draft_id"]
    )
    body = await req.parse(DeleteDraft)
    await domain.do_delete_draft(req.db, principal=req.principal, draft=draft, version=body.version)
    return no_content()
