"""Conversations (Front tag "Conversations"): lists, create, get."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field

from porch.api.events import FRONT_PAGE, list_page
from porch.api.http import Request, Response, json_response
from porch.api.http import no_content as _no_content  # the links section imports its own
from porch.api.models import Body, Name, Ref, Refs, Text
from porch.api.pagination import collection, read_page
from porch.api.routing import Routes
from porch.api.shapes import conversation_json, inbox_json, message_json, teammate_json
from porch.domain import conversations as domain
from porch.domain import messages as messages_domain
from porch.domain.errors import BadRequest
from porch.store.conversations import Conversation

routes = Routes()


async def conversation_page(req: Request, scope: str, owner: int | None) -> Response:
    """A page of conversations of ``scope`` (all, an inbox's, an assignee's, a tag's, a
    link's), filtered by ``q[statuses]`` or ``q[status_categories]`` / ``q[status_ids]``, most
    recent activity first unless sort_order=asc."""
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
        status_categories=req.query_all("q[status_categories]"),
        status_refs=req.query_all("q[status_ids]"),
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


# --- Updates and sub-resources of a conversation --------------------------------------------


async def _conversation(req: Request) -> Conversation:
    return await domain.access_conversation(
        req.db, principal=req.principal, ref=req.path_params["conversation_id"]
    )


class UpdateConversation(Body):
    assignee_id: Ref | None = None
    inbox_id: Ref | None = None
    status: Literal["archived", "open", "deleted", "spam"] | None = None
    status_id: Ref | None = None
    tag_ids: Refs | None = None
    description: Annotated[Text, Field(max_length=65535)] | None = None
    due_at: float | int | None = None
    custom_fields: dict[str, Any] | None = None


@routes.patch(
    "/conversations/{conversation_id}",
    "update-conversation",
    scope="conversations:write",
    status=204,
    body=UpdateConversation,
)
async def update_conversation(req: Request) -> Response:
    """Update a conversation; only the fields sent change (tags and custom fields whole)."""
    conv = await _conversation(req)
    body = await req.parse(UpdateConversation)
    await domain.do_update_conversation(
        req.db, principal=req.principal, conv=conv, changes=body.sent()
    )
    return _no_content()


@routes.delete(
    "/conversations/{conversation_id}",
    "delete-conversation",
    scope="conversations:delete",
    status=204,
)
async def delete_conversation(req: Request) -> Response:
    """Delete a conversation from the trash for good."""
    conv = await _conversation(req)
    await domain.do_delete_conversation(req.db, principal=req.principal, conv=conv)
    return _no_content()


class UpdateAssignee(Body):
    assignee_id: Ref | None


@routes.put(
    "/conversations/{conversation_id}/assignee",
    "update-conversation-assignee",
    scope="conversations:write",
    status=204,
    body=UpdateAssignee,
)
async def update_conversation_assignee(req: Request) -> Response:
    """Assign a conversation, or unassign it with ``assignee_id: null``."""
    conv = await _conversation(req)
    body = await req.parse(UpdateAssignee)
    await domain.do_set_assignee(req.db, principal=req.principal, conv=conv, ref=body.assignee_id)
    return _no_content()


class TagIds(Body):
    tag_ids: Refs


@routes.post(
    "/conversations/{conversation_id}/tags",
    "add-conversation-tag",
    scope="conversations:write",
    status=204,
    body=TagIds,
)
async def add_conversation_tag(req: Request) -> Response:
    """Add tags to a conversation."""
    conv = await _conversation(req)
    body = await req.parse(TagIds)
    await domain.do_change_tags(
        req.db, principal=req.principal, conv=conv, refs_=body.tag_ids, add=True
    )
    return _no_content()


@routes.delete(
    "/conversations/{conversation_id}/tags",
    "remove-conversation-tag",
    scope="conversations:write",
    status=204,
    body=TagIds,
)
async def remove_conversation_tag(req: Request) -> Response:
    """Remove tags from a conversation."""
    conv = await _conversation(req)
    body = await req.parse(TagIds)
    await domain.do_change_tags(
        req.db, principal=req.principal, conv=conv, refs_=body.tag_ids, add=False
    )
    return _no_content()


class TeammateIds(Body):
    teammate_ids: Annotated[list[Ref], Field(max_length=50)]


@routes.get(
    "/conversations/{conversation_id}/followers",
    "list-conversation-followers",
    scope="teammates:read",
)
async def list_conversation_followers(req: Request) -> Response:
    """List the teammates following a conversation."""
    conv = await _conversation(req)
    found = await domain.list_followers(req.db, principal=req.principal, conv=conv)
    return collection(req, [teammate_json(req, t) for t in found], None)


@routes.post(
    "/conversations/{conversation_id}/followers",
    "add-conversation-followers",
    scope="conversations:write",
    status=204,
    body=TeammateIds,
)
async def add_conversation_followers(req: Request) -> Response:
    """Add followers to a conversation."""
    conv = await _conversation(req)
    body = await req.parse(TeammateIds)
    await domain.do_change_followers(
        req.db, principal=req.principal, conv=conv, refs_=body.teammate_ids, add=True
    )
    return _no_content()


@routes.delete(
    "/conversations/{conversation_id}/followers",
    "delete-conversation-followers",
    scope="conversations:write",
    status=204,
    body=TeammateIds,
)
async def delete_conversation_followers(req: Request) -> Response:
    """Remove followers from a conversation."""
    conv = await _conversation(req)
    body = await req.parse(TeammateIds)
    await domain.do_change_followers(
        req.db, principal=req.principal, conv=conv, refs_=body.teammate_ids, add=False
    )
    return _no_content()


@routes.get(
    "/conversations/{conversation_id}/inboxes",
    "list-conversation-inboxes",
    scope="inboxes:read",
)
async def list_conversation_inboxes(req: Request) -> Response:
    """List the inboxes a conversation is in (those the token sees)."""
    conv = await _conversation(req)
    found = await domain.list_inboxes(req.db, principal=req.principal, conv=conv)
    return collection(req, [inbox_json(req, i) for i in found], None)


class UpdateReminders(Body):
    teammate_id: Ref
    scheduled_at: float | int | None
    status_id: Ref | None = None


@routes.patch(
    "/conversations/{conversation_id}/reminders",
    "update-conversation-reminders",
    scope="conversations:write",
    status=204,
    body=UpdateReminders,
)
async def update_conversation_reminders(req: Request) -> Response:
    """Snooze a conversation for a teammate until ``scheduled_at``, or cancel with null."""
    conv = await _conversation(req)
    body = await req.parse(UpdateReminders)
    await domain.do_set_reminder(
        req.db,
        principal=req.principal,
        conv=conv,
        teammate_ref=body.teammate_id,
        scheduled_at=body.scheduled_at,
        status_ref=body.status_id,
    )
    return _no_content()


@routes.get(
    "/conversations/{conversation_id}/events",
    "list-conversation-events",
    scope="events:*:read",
)
async def list_conversation_events(req: Request) -> Response:
    """List a conversation's events, newest first, 15 at most per page."""
    conv = await _conversation(req)
    return await list_page(req, public_only=True, maximum=FRONT_PAGE, conversation_id=conv.id)


@routes.get(
    "/conversations/{conversation_id}/messages",
    "list-conversation-messages",
    scope="messages:read",
)
async def list_conversation_messages(req: Request) -> Response:
    """A page of a conversation's messages, newest first unless sort_order=asc."""
    page = read_page(req, key_width=2, sort_fields=("created_at",), default_desc=True)
    if page.after and not all(isinstance(v, int) for v in page.after):
        raise BadRequest("Invalid page_token")
    after = (int(page.after[0]), int(page.after[1])) if page.after else None
    conv = await _conversation(req)
    views, nxt = await messages_domain.list_messages(
        req.db,
        principal=req.principal,
        conversation=conv,
        after=after,
        limit=page.limit,
        descending=page.descending,
    )
    return collection(req, [message_json(req, v) for v in views], list(nxt) if nxt else None)


# --- Links of a conversation (links helper) ---

from porch.api.http import no_content  # noqa: E402  (this section is appended on its own)
from porch.api.models import ShortText  # noqa: E402
from porch.domain import links as links_domain  # noqa: E402

LinkRefs = Annotated[list[Ref], Field(max_length=10)]
LinkUrls = Annotated[list[ShortText], Field(max_length=10)]


class AddConversationLink(Body):
    link_ids: LinkRefs | None = None
    link_external_urls: LinkUrls | None = None


class RemoveConversationLinks(Body):
    link_ids: LinkRefs


@routes.post(
    "/conversations/{conversation_id}/links",
    "add-conversation-link",
    scope="conversations:write",
    status=204,
    body=AddConversationLink,
)
async def add_conversation_link(req: Request) -> Response:
    """Link existing links, or external URLs (created as web links when new), to a
    conversation."""
    conv = await domain.access_conversation(
        req.db, principal=req.principal, ref=req.path_params["conversation_id"]
    )
    body = await req.parse(AddConversationLink)
    await links_domain.do_add_conversation_links(
        req.db,
        principal=req.principal,
        conv=conv,
        link_refs=body.link_ids,
        urls=body.link_external_urls,
    )
    return no_content()


@routes.delete(
    "/conversations/{conversation_id}/links",
    "remove-conversation-links",
    scope="conversations:write",
    status=204,
    body=RemoveConversationLinks,
)
async def remove_conversation_links(req: Request) -> Response:
    """Unlink links from a conversation."""
    conv = await domain.access_conversation(
        req.db, principal=req.principal, ref=req.path_params["conversation_id"]
    )
    body = await req.parse(RemoveConversationLinks)
    await links_domain.do_remove_conversation_links(
        req.db, principal=req.principal, conv=conv, link_refs=body.link_ids
    )
    return no_content()


# --- Search (search helper; shapes as in the lists above) ---

from porch.domain import search as search_domain  # noqa: E402


@routes.get("/conversations/search/{query}", "search-conversations", scope="conversations:read")
async def search_conversations(req: Request) -> Response:
    """Search conversations with Front's query language, latest activity first, with the
    number of matches in ``_total``."""
    page = read_page(req, key_width=2)
    if page.after and not all(isinstance(v, int) for v in page.after):
        raise BadRequest("Invalid page_token")
    after = (int(page.after[0]), int(page.after[1])) if page.after else None
    parsed = search_domain.check_query(req.path_params["query"])
    criteria = await search_domain.check_search(req.db, principal=req.principal, query=parsed)
    views, nxt, total = await search_domain.search_conversations(
        req.db, principal=req.principal, criteria=criteria, after=after, limit=page.limit
    )
    return collection(
        req, [conversation_json(req, v) for v in views], list(nxt) if nxt else None, total=total
    )
