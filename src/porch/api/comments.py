"""Comments (Front tag "Comments"): list and add on a conversation, get, update, mentions,
replies.

Front does not page comments: a list holds them all, newest first, with ``next`` null.
A comment with attachments is posted as ``multipart/form-data``: one form field per JSON
property (``is_pinned`` as ``true``/``false``) and the files as ``attachments[]``.
"""

from __future__ import annotations

import re
from typing import Any

import pydantic

from porch.api import multipart
from porch.api.http import Request, Response, json_response, validation_details
from porch.api.models import Body, Ref, Text
from porch.api.pagination import collection
from porch.api.routing import Routes
from porch.api.shapes import comment_json, teammate_json
from porch.domain import attachments
from porch.domain import comments as domain
from porch.domain.conversations import access_conversation
from porch.domain.errors import BadRequest
from porch.store.attachments import StoredFile
from porch.store.comments import Comment
from porch.store.conversations import Conversation

routes = Routes()


class CreateComment(Body):
    body: Text
    author_id: Ref | None = None
    is_pinned: bool = False


class UpdateComment(Body):
    body: Text | None = None
    is_pinned: bool | None = None


async def _render(req: Request, comment: Comment, status: int = 200) -> Response:
    [view] = await domain.views(req.db, principal=req.principal, comments=[comment])
    return json_response(comment_json(req, view.comment, view.author, view.attachments), status)


# The form fields of a multipart comment, each sent once; other text fields are ignored, as
# unknown JSON properties are. Files are ``attachments[]`` (an old Front example numbers them).
_FORM_FIELDS = ("body", "author_id", "is_pinned")
_FILE_FIELD = re.compile(r"attachments(\[\d*\])?")


async def _parse_multipart(req: Request) -> tuple[CreateComment, list[StoredFile]]:
    """The comment a form describes, with its files stored in the blob store.

    The form is validated whole before any file is stored, so bad input stores nothing.
    """
    form = await multipart.read_form(req, max_file=attachments.MAX_FILE_BYTES)
    data: dict[str, Any] = {}
    for name, values in form.fields.items():
        if name not in _FORM_FIELDS:
            continue
        if len(values) > 1:
            raise BadRequest(f"The form field {name!r} is given more than once")
        data[name] = values[0]
    if "is_pinned" in data:
        pinned = data["is_pinned"].lower()
        if pinned not in ("true", "false"):
            raise BadRequest("is_pinned must be true or false")
        data["is_pinned"] = pinned == "true"
    for upload in form.files:
        if _FILE_FIELD.fullmatch(upload.name) is None:
            raise BadRequest(f"Unknown file field {upload.name!r}")
    try:
        body = CreateComment.model_validate(data)
    except pydantic.ValidationError as exc:
        raise BadRequest("The request body is invalid", details=validation_details(exc)) from exc
    domain.check_body(body.body)
    files = [attachments.NewFile(u.filename, u.content_type, u.data) for u in form.files]
    stored = await attachments.store_files(req.app.blobs, files)
    return body, stored


async def _add(
    req: Request, conversation: Conversation, reply_to: Comment | None = None
) -> Response:
    stored: list[StoredFile] = []
    if multipart.is_multipart(req):
        body, stored = await _parse_multipart(req)
    else:
        body = await req.parse(CreateComment)
    comment = await domain.do_add_comment(
        req.db,
        principal=req.principal,
        conversation=conversation,
        body=body.body,
        author_ref=body.author_id,
        is_pinned=body.is_pinned,
        reply_to=reply_to,
        files=stored,
    )
    return await _render(req, comment, 201)


@routes.get(
    "/conversations/{conversation_id}/comments",
    "list-conversation-comments",
    scope="comments:read",
)
async def list_conversation_comments(req: Request) -> Response:
    """List every comment of a conversation, newest first."""
    conv = await access_conversation(
        req.db, principal=req.principal, ref=req.path_params["conversation_id"]
    )
    views = await domain.list_comments(req.db, principal=req.principal, conversation=conv)
    return collection(req, [comment_json(req, v.comment, v.author, v.attachments) for v in views])


@routes.post(
    "/conversations/{conversation_id}/comments",
    "add-comment",
    scope="comments:write",
    status=201,
    body=CreateComment,
)
async def add_comment(req: Request) -> Response:
    """Add a comment to a conversation."""
    conv = await access_conversation(
        req.db, principal=req.principal, ref=req.path_params["conversation_id"]
    )
    return await _add(req, conv)


@routes.get("/comments/{comment_id}", "get-comment", scope="comments:read")
async def get_comment(req: Request) -> Response:
    """Fetch a comment."""
    comment = await domain.access_comment(
        req.db, principal=req.principal, ref=req.path_params["comment_id"]
    )
    return await _render(req, comment)


@routes.patch(
    "/comments/{comment_id}/", "update-comment", scope="comments:write", body=UpdateComment
)
async def update_comment(req: Request) -> Response:
    """Update a comment's body (only from the token that wrote it) or its pinning."""
    comment = await domain.access_comment(
        req.db, principal=req.principal, ref=req.path_params["comment_id"]
    )
    body = await req.parse(UpdateComment)
    updated = await domain.do_update_comment(
        req.db, principal=req.principal, comment=comment, body=body.body, is_pinned=body.is_pinned
    )
    return await _render(req, updated)


@routes.get("/comments/{comment_id}/mentions", "list-comment-mentions", scope="teammates:read")
async def list_comment_mentions(req: Request) -> Response:
    """List the teammates a comment mentions."""
    comment = await domain.access_comment(
        req.db, principal=req.principal, ref=req.path_params["comment_id"]
    )
    found = await domain.list_mentions(req.db, principal=req.principal, comment=comment)
    return collection(req, [teammate_json(req, t) for t in found])


@routes.post(
    "/comments/{comment_id}/replies",
    "add-comment-reply",
    scope="comments:write",
    status=201,
    body=CreateComment,
)
async def add_comment_reply(req: Request) -> Response:
    """Reply to a comment, in the same conversation."""
    comment = await domain.access_comment(
        req.db, principal=req.principal, ref=req.path_params["comment_id"]
    )
    conv = await domain.conversation_of(req.db, principal=req.principal, comment=comment)
    return await _add(req, conv, comment)
