"""What Front's shape of an event shows besides the log row: the whole conversation, the
teammate or rule that caused it, and the object it was done to.

A page of events loads all of these in a fixed number of queries. An object that no longer
exists (a deleted tag, a link removed for good...) or that the token cannot see (a private tag
of someone else, an inbox of another team) is simply absent: the event then shows its kind
without its data.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from porch.domain import comments as comments_domain
from porch.domain import conversations as conversations_domain
from porch.domain.comments import CommentView
from porch.domain.conversations import ConversationView
from porch.domain.principal import Principal
from porch.store import comments as comments_store
from porch.store import event_refs
from porch.store import inboxes as inboxes_store
from porch.store import rules as rules_store
from porch.store import teammates as teammates_store
from porch.store.db import Reader
from porch.store.events import Event
from porch.store.inboxes import Inbox
from porch.store.links import Link
from porch.store.rules import Rule
from porch.store.tags import Tag
from porch.store.teammates import Teammate

Target = Teammate | Tag | CommentView | Link | Inbox

# How the log names the kinds of targets that have a Front resource to show.
INBOX_TARGETS = ("inbox", "inboxes")


@dataclass(frozen=True, slots=True)
class RuleSource:
    """The rule that caused an event, with its actions as Front's Rule shape reads them."""

    rule: Rule
    actions: list[str]


@dataclass(frozen=True, slots=True)
class EventView:
    event: Event
    conversation: ConversationView | None
    source: Teammate | RuleSource | None
    target: Target | None


async def _rule_sources(
    conn: Reader, *, principal: Principal, events: list[Event]
) -> dict[int, RuleSource]:
    """The rules the events name as their source (a teammate's only for a token that sees
    private resources, as its rule list does), each with its readable actions."""
    # Imported here: the rules engine's actions reach the webhook renderer, which imports this
    # module.
    from porch.domain.rules import describe_actions

    keys = sorted({e.source_id for e in events if e.source_type == "rule" and e.source_id})
    found = await rules_store.many_visible(
        conn, company_id=principal.company_id, keys=keys, vis=principal.visibility()
    )
    return {r.id: RuleSource(r, await describe_actions(conn, rule=r)) for r in found}


def _keys(events: Iterable[Event], *kinds: str) -> list[int]:
    return sorted({e.target_id for e in events if e.target_type in kinds and e.target_id})


async def views(conn: Reader, *, principal: Principal, events: list[Event]) -> list[EventView]:
    """Each event with its conversation, teammate source and target, where they still exist."""
    company_id = principal.company_id
    conv_keys = sorted({e.conversation_id for e in events if e.conversation_id is not None})
    convs = await event_refs.conversations_by_key(conn, company_id=company_id, keys=conv_keys)
    conv_views = {
        v.conversation.id: v
        for v in await conversations_domain.views(
            conn, principal=principal, convs=list(convs.values())
        )
    }
    teammate_keys = set(_keys(events, "teammate"))
    teammate_keys |= {e.source_id for e in events if e.source_type == "teammate" and e.source_id}
    teammates = {
        t.id: t
        for t in await teammates_store.many(conn, company_id=company_id, keys=sorted(teammate_keys))
    }
    tags = await event_refs.tags_by_key(conn, company_id=company_id, keys=_keys(events, "tag"))
    # Private tags of teammates the token cannot reach stay hidden, as on conversations.
    if not principal.visibility()["private"]:
        tags = {k: t for k, t in tags.items() if t.owner_teammate_id is None}
    links = await event_refs.links_by_key(conn, company_id=company_id, keys=_keys(events, "link"))
    comments = {
        v.comment.id: v
        for v in await comments_domain.views(
            conn,
            principal=principal,
            comments=await comments_store.many(
                conn, company_id=company_id, keys=_keys(events, "comment")
            ),
        )
    }
    inboxes = {
        i.id: i
        for i in await inboxes_store.many_visible(
            conn,
            company_id=company_id,
            keys=_keys(events, *INBOX_TARGETS),
            vis=principal.visibility(),
        )
    }
    by_kind: dict[str, dict[int, Target]] = {
        "teammate": dict(teammates),
        "tag": dict(tags),
        "link": dict(links),
        "comment": dict(comments),
        **{kind: dict(inboxes) for kind in INBOX_TARGETS},
    }
    rules = await _rule_sources(conn, principal=principal, events=events)
    out = []
    for e in events:
        target = None
        if e.target_type in by_kind and e.target_id is not None:
            target = by_kind[e.target_type].get(e.target_id)
        source: Teammate | RuleSource | None = None
        if e.source_type == "teammate" and e.source_id:
            source = teammates.get(e.source_id)
        elif e.source_type == "rule" and e.source_id:
            source = rules.get(e.source_id)
        conv = conv_views.get(e.conversation_id) if e.conversation_id is not None else None
        out.append(EventView(e, conv, source, target))
    return out
