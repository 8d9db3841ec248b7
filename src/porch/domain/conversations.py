"""Conversations: access (with Front's 301 for merged ones), listing, and creating
discussions and tasks.

A conversation is visible through any inbox it is in that the token sees; one in no inbox (a
discussion among teammates) is visible to shared tokens. Merged conversations keep their row,
pointing at the survivor: access to them raises ``Moved``, which the API answers with 301.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson

from porch import ids
from porch.domain import custom_fields, teammates
from porch.domain.errors import BadRequest, Moved, not_found
from porch.domain.inboxes import access_inbox
from porch.domain.principal import Principal
from porch.events import log
from porch.store import conversations as store
from porch.store import crud, joins
from porch.store import statuses as statuses_store
from porch.store import teammates as teammates_store
from porch.store.db import Database, Reader, Row
from porch.store.links import Link
from porch.store.statuses import Status
from porch.store.tables import comments, conversations
from porch.store.tags import Tag
from porch.store.teammates import Teammate
from porch.timeutil import now_ms

# Front's q[statuses] values and the stored states they select.
STATUS_FILTERS = {
    "assigned": "open",
    "unassigned": "open",
    "archived": "archived",
    "trashed": "trashed",
    "deleted": "trashed",
}
FIFTY_YEARS_MS = 50 * 366 * 24 * 3600 * 1000


@dataclass(frozen=True, slots=True)
class ConversationView:
    """A conversation with what its Front shape shows: assignee, tags, links, reminders."""

    conversation: store.Conversation
    assignee: Teammate | None
    tags: list[Tag]
    links: list[Link]
    reminders: list[Row]
    status: Status | None
    inbox_ids: list[int]


async def access_conversation(
    conn: Reader, *, principal: Principal, ref: str
) -> store.Conversation:
    """The conversation ``ref`` names if the token sees it; Moved if it was merged."""
    key = ids.decode(ids.CONVERSATION, ref)
    conv = None
    if key is not None:
        conv = await store.get_visible(
            conn, company_id=principal.company_id, key=key, vis=principal.visibility()
        )
    if conv is None:
        raise not_found("conversation", ref)
    if conv.merged_into_id is not None:
        survivor = conv
        # Follow a chain of merges to the conversation that survived them all.
        for _ in range(100):
            if survivor.merged_into_id is None:
                break
            nxt = await store.get(
                conn, company_id=principal.company_id, key=survivor.merged_into_id
            )
            if nxt is None:
                break
            survivor = nxt
        raise Moved(ref, ids.encode(ids.CONVERSATION, survivor.id))
    return conv


async def views(
    conn: Reader, *, principal: Principal, convs: list[store.Conversation]
) -> list[ConversationView]:
    """Load, in a fixed number of queries, what each conversation's shape shows."""
    if not convs:
        return []
    keys = [c.id for c in convs]
    company_id = principal.company_id
    tag_rows = await store.tag_rows_of(conn, keys=keys)
    link_rows = await store.link_rows_of(conn, keys=keys)
    reminder_rows = await store.reminder_rows_of(conn, keys=keys)
    inbox_keys = await store.inbox_keys_of(conn, keys=keys)
    assignee_keys = sorted({c.assignee_id for c in convs if c.assignee_id is not None})
    assignees = {
        t.id: t for t in await teammates_store.many(conn, company_id=company_id, keys=assignee_keys)
    }
    status_map: dict[int, Status] = {}
    if any(c.status_id for c in convs):
        status_map = {s.id: s for s in await statuses_store.all_of(conn, company_id=company_id)}
    vis = principal.visibility()
    out = []
    for c in convs:
        tags_ = [Tag(*(r[col] for col in Tag._fields)) for r in tag_rows.get(c.id, [])]
        # Private tags of teammates the token cannot reach stay hidden on the conversation too.
        tags_ = [t for t in tags_ if t.owner_teammate_id is None or vis["private"]]
        links_ = [Link(*(r[col] for col in Link._fields)) for r in link_rows.get(c.id, [])]
        out.append(
            ConversationView(
                conversation=c,
                assignee=assignees.get(c.assignee_id) if c.assignee_id else None,
                tags=tags_,
                links=links_,
                reminders=reminder_rows.get(c.id, []),
                status=status_map.get(c.status_id) if c.status_id else None,
                inbox_ids=inbox_keys.get(c.id, []),
            )
        )
    return out


def check_status_filters(statuses: list[str]) -> list[str] | None:
    """The stored states Front's ``q[statuses]`` selects, or None for no filter."""
    if not statuses:
        return None
    bad = [s for s in statuses if s not in STATUS_FILTERS]
    if bad:
        raise BadRequest(
            f"q[statuses] must be among {', '.join(sorted(STATUS_FILTERS))}", details=bad
        )
    return sorted({STATUS_FILTERS[s] for s in statuses})


async def list_conversations(
    db: Database,
    *,
    principal: Principal,
    scope: str,
    owner: int | None,
    statuses: list[str],
    after: tuple[int, int] | None,
    limit: int,
    descending: bool,
) -> tuple[list[ConversationView], tuple[int, int] | None]:
    """A page of visible conversations, most recent activity first by default.

    ``assigned`` and ``unassigned`` filter on the assignee as well as on the open state.
    """
    states = check_status_filters(statuses)
    want_assigned = {"assigned", "unassigned"} & set(statuses)
    rows = await store.page(
        db,
        company_id=principal.company_id,
        vis=principal.visibility(),
        scope=scope,
        owner=owner,
        after=after,
        limit=limit + 1,
        descending=descending,
        states=states,
    )
    more = len(rows) > limit
    rows = rows[:limit]
    nxt = (rows[-1].activity_at, rows[-1].id) if more and rows else None
    if want_assigned and want_assigned != {"assigned", "unassigned"}:
        keep_assigned = "assigned" in want_assigned
        rows = [
            r for r in rows if r.state != "open" or (r.assignee_id is not None) == keep_assigned
        ]
    return await views(db, principal=principal, convs=rows), nxt


async def do_create_conversation(
    db: Database,
    *,
    principal: Principal,
    type: str,
    subject: str,
    inbox_ref: str | None,
    teammate_refs: list[str] | None,
    comment_body: str | None,
    comment_author_ref: str | None,
    description: str | None,
    due_at: float | None,
    fields: dict[str, Any] | None,
) -> store.Conversation:
    """Create a discussion or a task, with its starter comment.

    Exactly one of ``inbox_ref`` (the conversation lives in that inbox) and ``teammate_refs``
    (a discussion among those teammates, who follow it) is given. Discussions need a comment.
    """
    if type not in ("discussion", "task"):
        raise BadRequest("type must be discussion or task")
    if (inbox_ref is None) == (not teammate_refs):
        raise BadRequest("Give either inbox_id or teammate_ids, not both and not neither")
    if type == "discussion" and comment_body is None:
        raise BadRequest("A discussion needs its starter comment")
    if type != "task" and (description is not None or due_at is not None):
        raise BadRequest("description and due_at are only for tasks")
    if not subject.strip():
        raise BadRequest("A conversation needs a subject")
    now = now_ms()
    due_ms = None
    if due_at is not None:
        due_ms = round(due_at * 1000)
        if not now < due_ms <= now + FIFTY_YEARS_MS:
            raise BadRequest("due_at must be in the future and within 50 years")
    async with db.transaction() as tx:
        inbox = await access_inbox(tx, principal=principal, ref=inbox_ref) if inbox_ref else None
        members = (
            await teammates.access_teammates(tx, principal=principal, refs_=teammate_refs)
            if teammate_refs
            else []
        )
        author = None
        if comment_author_ref is not None:
            author = await teammates.access_teammate(
                tx, principal=principal, ref=comment_author_ref
            )
        values = await custom_fields.check_values(
            tx, principal=principal, object_type="conversation", values=fields or {}
        )
        key = await crud.insert(
            tx,
            conversations,
            company_id=principal.company_id,
            type=type,
            subject=subject,
            state="open",
            assignee_id=None,
            status_id=None,
            waiting_since=None,
            ticket_number=None,
            is_private=bool(inbox and inbox.is_private),
            description=description,
            due_at=due_ms,
            custom_fields=orjson.dumps(values).decode(),
            merged_into_id=None,
            created_at=now,
            updated_at=now,
            activity_at=now,
        )
        if inbox is not None:
            await crud.link(
                tx,
                joins.CONVERSATION_INBOXES,
                company_id=principal.company_id,
                left_id=key,
                right_ids=[inbox.id],
            )
        if members:
            await crud.link(
                tx,
                joins.CONVERSATION_FOLLOWERS,
                company_id=principal.company_id,
                left_id=key,
                right_ids=[m.id for m in members],
            )
        source = log.source_of(principal)
        if comment_body is not None:
            author_id = author.id if author else await teammates.api_author(tx, principal=principal)
            comment_key = await crud.insert(
                tx,
                comments,
                company_id=principal.company_id,
                conversation_id=key,
                author_id=author_id,
                body=comment_body,
                is_pinned=False,
                reply_to_id=None,
                token_id=principal.token_id,
                posted_at=now,
                updated_at=now,
            )
            await log.append(
                tx,
                company_id=principal.company_id,
                type="comment",
                source=source,
                target_type="comment",
                target_id=comment_key,
                conversation_id=key,
            )
        await log.append(
            tx,
            company_id=principal.company_id,
            type="conversation_created",
            source=source,
            target_type="conversation",
            target_id=key,
            conversation_id=key,
            data={"type": type, "subject": subject},
        )
        conv = await store.get(tx, company_id=principal.company_id, key=key)
    assert conv is not None
    return conv
