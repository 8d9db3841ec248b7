"""Appending to the event log, the spine every consumer reads by offset.

An action appends its event on the transaction that made the change, so the log holds an event
exactly when the change committed. Front's event types are public (``GET /events``); Porch's
own kinds (``tag_created``, ``teammate_updated`` ...) describe the writes Front has no event for,
so that consumers such as the search index and warehouse sync see every change.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson
import sqlalchemy as sa

from porch.domain.principal import Principal
from porch.store.db import Connection, insert_query
from porch.store.tables import events
from porch.timeutil import now_ms

FRONT_TYPES = frozenset(
    [
        "assign",
        "unassign",
        "archive",
        "reopen",
        "trash",
        "restore",
        "reminder",
        "comment",
        "mention",
        "inbound",
        "outbound",
        "out_reply",
        "move",
        "forward",
        "tag",
        "untag",
        "sending_error",
        "message_bounce_error",
        "conversations_merged",
        "link_added",
        "link_removed",
        "custom_field_updated",
        "macro_triggered",
        "topic_identified",
        "ticket_status_update",
        "call_started",
        "call_abandoned",
        "call_queued",
        "call_on_hold",
        "call_parked",
        "call_resumed",
        "call_connected",
        "call_missed",
        "call_hangup",
        "call_transferred",
        "call_transcript_added",
        "call_voicemail_transcript_added",
    ]
)


@dataclass(frozen=True, slots=True)
class Source:
    """Who caused an event: Front's ``source._meta.type`` and the actor's key."""

    type: str
    id: int | None = None


def source_of(principal: Principal) -> Source:
    """The event source for a change made through the API with ``principal``'s token, or by
    the rule ``principal`` stands for."""
    if principal.rule_id is not None:
        return Source("rule", principal.rule_id)
    oauth = principal.bucket.startswith("oauth")  # "oauth:<app key>": one bucket per app
    return Source("oauth_client" if oauth else "api", principal.token_id)


SYSTEM = Source("api", None)

_INSERT = insert_query(
    sa.insert(events).values(
        company_id=sa.bindparam("company_id"),
        type=sa.bindparam("type"),
        is_public=sa.bindparam("is_public", type_=sa.Boolean),
        emitted_at=sa.bindparam("emitted_at"),
        conversation_id=sa.bindparam("conversation_id"),
        source_type=sa.bindparam("source_type"),
        source_id=sa.bindparam("source_id"),
        target_type=sa.bindparam("target_type"),
        target_id=sa.bindparam("target_id"),
        data=sa.bindparam("data"),
    ),
    events.c.id,
)


async def append(
    tx: Connection,
    *,
    company_id: int,
    type: str,
    source: Source,
    target_type: str | None = None,
    target_id: int | None = None,
    conversation_id: int | None = None,
    data: dict[str, Any] | None = None,
) -> int:
    """Append one event on ``tx`` and return its key; call it inside the writing transaction."""
    return await tx.insert(
        _INSERT,
        company_id=company_id,
        type=type,
        is_public=type in FRONT_TYPES,
        emitted_at=now_ms(),
        conversation_id=conversation_id,
        source_type=source.type,
        source_id=source.id,
        target_type=target_type,
        target_id=target_id,
        data=orjson.dumps(data or {}).decode(),
    )
