"""Porch's admin API for conversations: merging (Front's API has no merge endpoint).

``POST /porch/conversations/{conversation_id}/merge {"conversation_ids": [...]}`` merges the
listed conversations into the one of the path and answers 200 with the survivor in Front's
conversation shape. Needs a token with the ``provisioning`` namespace.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from porch.api.http import Request, Response, json_response
from porch.api.models import Body, Ref
from porch.api.routing import Routes
from porch.api.shapes import conversation_json
from porch.domain import conversations, merge

routes = Routes()


class MergeConversations(Body):
    conversation_ids: Annotated[list[Ref], Field(min_length=1, max_length=merge.MAX_SOURCES)]


@routes.post(
    "/porch/conversations/{conversation_id}/merge",
    "porch-merge-conversations",
    scope=None,
    body=MergeConversations,
    front=False,
)
async def porch_merge_conversations(req: Request) -> Response:
    """Merge conversations into this one; they answer 301 to it from then on."""
    req.principal.require_provisioning()
    target = await conversations.access_conversation(
        req.db, principal=req.principal, ref=req.path_params["conversation_id"]
    )
    body = await req.parse(MergeConversations)
    sources = await merge.access_sources(
        req.db, principal=req.principal, target=target, refs=body.conversation_ids
    )
    survivor = await merge.do_merge_conversations(
        req.db, principal=req.principal, target=target, sources=sources
    )
    [view] = await conversations.views(req.db, principal=req.principal, convs=[survivor])
    return json_response(conversation_json(req, view))
