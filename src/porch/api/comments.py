"""Comments (Front tag "Comments"): list and add on a conversation, get, update, mentions,
replies.

Front does not page comments: a list holds them all, newest first, with ``next`` null.
Attachments (multipart bodies) are not supported yet: such a request is a 400.
"""

from __future__ import annotations

from porch.api.http import Request, Response, json_response
from porch.api.models import Body, Ref, Text
from porch.api.pagination import collection
from porch.api.routing import Routes
from porch.api.shapes import comment_json, teammate_json
from porch.domain import comments as domain
from porch.domain.conversations import access_conversation
from porch.domain.errors import BadRequest
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
    return json_response(comment_json(req, view.comment, view.author), status)


async def _add(
    req: Request, conversation: Conversation, reply_to: Comment | None = None
) -> Response:
    content_type = (req.header("content-type") or "").lower()
    if content_type.startswith("multipart/"):
        raise BadRequest("attachments are not supported yet")
    body = await req.parse(CreateComment)
    comment = await domain.do_add_comment(
        req.db,
        principal=req.principal,
        conversation=conversation,
        body=body.body,
        author_ref=body.author_id,
        is_pinned=body.is_pinned,
        reply_to=reply_to,
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
    return collection(req, [comment_json(req, v.comment, v.author) for v in views])


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
