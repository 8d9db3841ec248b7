"""Conversations (Front tag "Conversations"): lists, create, get."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field

from porch.api.http import Request, Response, json_response
from porch.api.models import Body, Name, Ref, Refs, Text
from porch.api.pagination import collection, read_page
from porch.api.routing import Routes
from porch.api.shapes import conversation_json
from porch.domain import conversations as domain
from porch.domain.errors import BadRequest

routes = Routes()


async def conversation_page(req: Request, scope: str, owner: int | None) -> Response:
    """A page of conversations of ``scope`` (all, an inbox's, an assignee's, a tag's, a
    link's), filtered by ``q[statuses]``, most recent activity first unless sort_order=asc."""
    page = read_page(req, key_width=2, sort_fields=("date",), default_desc=True)
    if page.after and not all(isinstance(v, int) for v in page.after):
        raise BadRequest("Invalid page_token")
    after = (int(page.after[0]), int(page.after[1])) if page.after else None
    views, nxt = await domain.list_conversations(
        req.db,
        principal=req.principal,
        scope=scope,
        owner=owner,
        statuses=req.query_all("q[statuses]"),
        after=after,
        limit=page.limit,
        descending=page.descending,
    )
    return collection(req, [conversation_json(req, v) for v in views], list(nxt) if nxt else None)


@routes.get("/conversations", "list-conversations", scope="conversations:read")
async def list_conversations(req: Request) -> Response:
    """List the conversations the token sees, most recent activity first."""
    return await conversation_page(req, "all", None)


class StarterComment(Body):
    body: Text
    author_id: Ref | None = None


class CreateConversation(Body):
    type: Literal["discussion", "task"]
    subject: Annotated[Name, Field(max_length=1000)]
    inbox_id: Ref | None = None
    teammate_ids: Refs | None = None
    comment: StarterComment | None = None
    description: Annotated[Text, Field(max_length=65535)] | None = None
    due_at: float | int | None = None
    custom_fields: dict[str, Any] | None = None


@routes.post(
    "/conversations",
    "create-conversation",
    scope="conversations:write",
    status=201,
    body=CreateConversation,
)
async def create_conversation(req: Request) -> Response:
    """Create a discussion or a task, with its starter comment."""
    body = await req.parse(CreateConversation)
    conv = await domain.do_create_conversation(
        req.db,
        principal=req.principal,
        type=body.type,
        subject=body.subject,
        inbox_ref=body.inbox_id,
        teammate_refs=body.teammate_ids,
        comment_body=body.comment.body if body.comment else None,
        comment_author_ref=body.comment.author_id if body.comment else None,
        description=body.description,
        due_at=body.due_at,
        fields=body.custom_fields,
    )
    [view] = await domain.views(req.db, principal=req.principal, convs=[conv])
    return json_response(conversation_json(req, view), 201)


@routes.get(
    "/conversations/{conversation_id}", "get-conversation-by-id", scope="conversations:read"
)
async def get_conversation_by_id(req: Request) -> Response:
    """Fetch a conversation (301 to the survivor if it was merged)."""
    conv = await domain.access_conversation(
        req.db, principal=req.principal, ref=req.path_params["conversation_id"]
    )
    [view] = await domain.views(req.db, principal=req.principal, convs=[conv])
    return json_response(conversation_json(req, view))
