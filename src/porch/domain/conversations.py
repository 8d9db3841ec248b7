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
from porch.domain import custom_fields, teammates, tickets
from porch.domain.errors import BadRequest, Moved, not_found
from porch.domain.inboxes import access_inbox
from porch.domain.principal import Principal
from porch.domain.tags import access_tag
from porch.events import log
from porch.store import conversations as store
from porch.store import crud, joins
from porch.store import inboxes as inboxes_store
from porch.store import messages as messages_store
from porch.store import statuses as statuses_store
from porch.store import teammates as teammates_store
from porch.store.db import Connection, Database, Reader, Row, concurrently
from porch.store.inboxes import Inbox
from porch.store.links import Link
from porch.store.statuses import Status
from porch.store.tables import comments, conversations, reminders
from porch.store.tags import Tag
from porch.store.teammates import Teammate
from porch.timeutil import now_ms

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
    # The main recipient (a message recipient row): the sender of the latest message if it came
    # in, else the first recipient of the latest (outbound) message; None before any message.
    recipient: Row | None = None


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
    assignee_keys = sorted({c.assignee_id for c in convs if c.assignee_id is not None})
    (
        tag_rows,
        link_rows,
        reminder_rows,
        inbox_keys,
        latest,
        teammates,
        ticketing,
        statuses,
    ) = await concurrently(
        conn,
        store.tag_rows_of(conn, keys=keys),
        store.link_rows_of(conn, keys=keys),
        store.reminder_rows_of(conn, keys=keys),
        store.inbox_keys_of(conn, keys=keys),
        messages_store.latest_recipients_of(conn, company_id=company_id, keys=keys),
        teammates_store.many(conn, company_id=company_id, keys=assignee_keys),
        statuses_store.ticketing_enabled(conn, company_id=company_id),
        statuses_store.all_of(conn, company_id=company_id),
    )
    assignees = {t.id: t for t in teammates}
    all_statuses: list[Status] = statuses if ticketing else []
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
                status=tickets.effective_status(c, all_statuses) if all_statuses else None,
                inbox_ids=inbox_keys.get(c.id, []),
                recipient=_main_recipient(latest.get(c.id)),
            )
        )
    return out


def _main_recipient(latest: tuple[bool, list[Row]] | None) -> Row | None:
    if latest is None:
        return None
    inbound, rows = latest
    wanted = ("from",) if inbound else ("to", "cc", "bcc")
    return next((r for r in rows if r["role"] in wanted), None)


async def list_conversations(
    db: Database,
    *,
    principal: Principal,
    scope: str,
    owner: int | None,
    statuses: list[str],
    status_categories: list[str],
    status_refs: list[str],
    after: tuple[int, int] | None,
    limit: int,
    descending: bool,
) -> tuple[list[ConversationView], tuple[int, int] | None]:
    """A page of visible conversations, most recent activity first by default, filtered by
    Front status (``statuses``) or, as an alternative, by ticket status category or id."""
    ticket = await tickets.check_ticket_filter(
        db, principal=principal, categories=status_categories, status_refs=status_refs
    )
    by_status = tickets.check_status_filter(statuses)
    if ticket is not None and by_status is not None:
        raise BadRequest("Give q[statuses] or a ticket status filter, not both")
    rows = await store.page(
        db,
        company_id=principal.company_id,
        vis=principal.visibility(),
        scope=scope,
        owner=owner,
        after=after,
        limit=limit + 1,
        descending=descending,
        status_filter=ticket or by_status,
    )
    more = len(rows) > limit
    rows = rows[:limit]
    nxt = (rows[-1].activity_at, rows[-1].id) if more and rows else None
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
            ticket_number=await statuses_store.take_ticket_number(
                tx, company_id=principal.company_id
            ),
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


# --- Updates --------------------------------------------------------------------------------
#
# Each action runs in one transaction and appends Front's event for every change it makes,
# with the conversation set, so /conversations/{id}/events tells the story of the conversation.

# Front's PATCH ``status`` values and the stored state each one means.
PATCH_STATES = {"open": "open", "archived": "archived", "deleted": "trashed", "spam": "spam"}


async def _emit(
    tx: Connection,
    *,
    conv: store.Conversation,
    type: str,
    source: log.Source,
    target_type: str | None = None,
    target_id: int | None = None,
    data: dict[str, Any] | None = None,
) -> None:
    await log.append(
        tx,
        company_id=conv.company_id,
        type=type,
        source=source,
        target_type=target_type,
        target_id=target_id,
        conversation_id=conv.id,
        data=data,
    )


async def move_state(
    tx: Connection, *, conv: store.Conversation, state: str, source: log.Source, now: int
) -> dict[str, Any]:
    """Emit the events of moving ``conv`` to ``state``; the column values to write.

    Leaving the trash is a ``restore``; entering it a ``trash``; archiving an ``archive``;
    becoming open from archived or spam a ``reopen``, which also counts as activity. Spam has no
    Front event: Porch logs ``conversation_spammed``.
    """
    if state == conv.state:
        return {}
    values: dict[str, Any] = {"state": state}
    if conv.status_id is not None:
        # A ticket status set before no longer applies where the conversation goes: it falls
        # back to that place's default (archived: resolved, open: open; see domain/tickets.py).
        values["status_id"] = None
        values["waiting_since"] = None
    if conv.state == "trashed":
        await _emit(tx, conv=conv, type="restore", source=source)
    if state == "trashed":
        await _emit(tx, conv=conv, type="trash", source=source)
    elif state == "archived":
        await _emit(tx, conv=conv, type="archive", source=source)
    elif state == "spam":
        await _emit(tx, conv=conv, type="conversation_spammed", source=source)
    elif conv.state != "trashed":
        await _emit(tx, conv=conv, type="reopen", source=source)
        values["activity_at"] = now
    return values


async def _assign(
    tx: Connection,
    *,
    principal: Principal,
    conv: store.Conversation,
    ref: str | None,
    source: log.Source,
) -> dict[str, Any]:
    """Resolve the new assignee (tea_, alias or email; None unassigns) and emit assign or
    unassign; the column values to write."""
    new = None
    if ref is not None:
        new = (await teammates.access_teammate(tx, principal=principal, ref=ref)).id
    if new == conv.assignee_id:
        return {}
    if new is None:
        await _emit(
            tx,
            conv=conv,
            type="unassign",
            source=source,
            target_type="teammate",
            target_id=conv.assignee_id,
        )
    else:
        await _emit(
            tx, conv=conv, type="assign", source=source, target_type="teammate", target_id=new
        )
    return {"assignee_id": new}


async def tag_keys(tx: Connection, *, principal: Principal, refs_: list[str]) -> list[int]:
    """Keys of the visible tags ``refs_`` names; 404 naming the first unknown one."""
    return list(
        dict.fromkeys([(await access_tag(tx, principal=principal, ref=r)).id for r in refs_])
    )


async def retag(
    tx: Connection,
    *,
    conv: store.Conversation,
    add: list[int],
    remove: list[int],
    source: log.Source,
) -> bool:
    """Add and remove tags, one tag/untag event per actual change; whether anything changed."""
    have = {r["id"] for r in (await store.tag_rows_of(tx, keys=[conv.id])).get(conv.id, [])}
    added = [k for k in add if k not in have]
    removed = [k for k in remove if k in have]
    if added:
        await crud.link(
            tx,
            joins.CONVERSATION_TAGS,
            company_id=conv.company_id,
            left_id=conv.id,
            right_ids=added,
        )
    if removed:
        await crud.unlink(
            tx,
            joins.CONVERSATION_TAGS,
            company_id=conv.company_id,
            left_id=conv.id,
            right_ids=removed,
        )
    for key in added:
        await _emit(tx, conv=conv, type="tag", source=source, target_type="tag", target_id=key)
    for key in removed:
        await _emit(tx, conv=conv, type="untag", source=source, target_type="tag", target_id=key)
    return bool(added or removed)


async def _set_status(
    tx: Connection,
    *,
    principal: Principal,
    conv: store.Conversation,
    status: Status,
    source: log.Source,
    now: int,
    move: bool = True,
) -> dict[str, Any]:
    """Give ``conv`` a ticket status: resolved archives it, open and waiting open it (unless
    ``move`` is False: a snooze archives instead); waiting starts ``waiting_since``. Emits
    ticket_status_update (and the state's own event)."""
    values: dict[str, Any] = {}
    if status.id != conv.status_id:
        values["status_id"] = status.id
        await _emit(
            tx,
            conv=conv,
            type="ticket_status_update",
            source=source,
            data={"status_id": ids.encode(ids.STATUS, status.id), "category": status.category},
        )
    if status.category == "waiting":
        if conv.waiting_since is None:
            values["waiting_since"] = now
    elif conv.waiting_since is not None:
        values["waiting_since"] = None
    if move:
        state = "archived" if status.category == "resolved" else "open"
        moved = await move_state(tx, conv=conv, state=state, source=source, now=now)
        # The status just chosen wins over the one moving would fall back to.
        values = {**moved, **values}
    return values


async def _ticket_status(
    tx: Connection, *, principal: Principal, ref: str | None, category: str
) -> Status:
    """The status ``ref`` names (which must be of ``category`` if that is not "any"), or the
    default status of ``category``; BadRequest when ticketing is off."""
    if not await statuses_store.ticketing_enabled(tx, company_id=principal.company_id):
        raise BadRequest("Ticketing must be enabled to set a ticket status")
    if ref is None:
        for s in await statuses_store.all_of(tx, company_id=principal.company_id):
            if s.is_default and s.category == category:
                return s
        raise BadRequest(f"The company has no default {category} status")
    key = ids.decode(ids.STATUS, ref)
    found = await statuses_store.get(tx, company_id=principal.company_id, key=key) if key else None
    if found is None:
        raise not_found("ticket status", ref)
    if category != "any" and found.category != category:
        raise BadRequest(f"status_id must be a {category} status")
    return found


def _future_ms(seconds: float, field: str, now: int) -> int:
    value = round(seconds * 1000)
    if not now < value <= now + FIFTY_YEARS_MS:
        raise BadRequest(f"{field} must be in the future and within 50 years")
    return value


async def do_update_conversation(
    db: Database, *, principal: Principal, conv: store.Conversation, changes: dict[str, Any]
) -> None:
    """Apply Front's PATCH: ``changes`` holds only the fields the client sent.

    ``tag_ids`` and ``custom_fields`` replace the whole set; ``inbox_id`` moves the conversation
    to that inbox alone; ``description`` and ``due_at`` are for tasks only; ``status`` and
    ``status_id`` exclude each other. Nothing changes unless everything is valid.
    """
    if "status" in changes and "status_id" in changes:
        raise BadRequest("Give status or status_id, not both")
    if changes.get("status") is not None and changes["status"] not in PATCH_STATES:
        raise BadRequest(f"status must be one of {', '.join(PATCH_STATES)}")
    if conv.type != "task" and ({"description", "due_at"} & changes.keys()):
        raise BadRequest("description and due_at are only for tasks")
    now = now_ms()
    source = log.source_of(principal)
    values: dict[str, Any] = {}
    async with db.transaction() as tx:
        if changes.get("status") is not None:
            values.update(
                await move_state(
                    tx, conv=conv, state=PATCH_STATES[changes["status"]], source=source, now=now
                )
            )
        if changes.get("status_id") is not None:
            status = await _ticket_status(
                tx, principal=principal, ref=changes["status_id"], category="any"
            )
            values.update(
                await _set_status(
                    tx, principal=principal, conv=conv, status=status, source=source, now=now
                )
            )
        if "assignee_id" in changes:
            values.update(
                await _assign(
                    tx, principal=principal, conv=conv, ref=changes["assignee_id"], source=source
                )
            )
        if changes.get("inbox_id") is not None:
            values.update(
                await _move(
                    tx, principal=principal, conv=conv, ref=changes["inbox_id"], source=source
                )
            )
        changed = bool(values)
        if changes.get("tag_ids") is not None:
            want = await tag_keys(tx, principal=principal, refs_=changes["tag_ids"])
            have = [r["id"] for r in (await store.tag_rows_of(tx, keys=[conv.id])).get(conv.id, [])]
            changed |= await retag(
                tx, conv=conv, add=want, remove=[k for k in have if k not in want], source=source
            )
        if "custom_fields" in changes:
            fields = await custom_fields.check_values(
                tx,
                principal=principal,
                object_type="conversation",
                values=changes["custom_fields"] or {},
            )
            if fields != conv.fields:
                values["custom_fields"] = orjson.dumps(fields).decode()
                defs = await custom_fields.definitions(
                    tx, principal=principal, object_type="conversation"
                )
                for field in defs:
                    if fields.get(field.name) != conv.fields.get(field.name):
                        await _emit(
                            tx,
                            conv=conv,
                            type="custom_field_updated",
                            source=source,
                            target_type="custom_field",
                            target_id=field.id,
                        )
        if "description" in changes and changes["description"] != conv.description:
            values["description"] = changes["description"]
        if "due_at" in changes:
            due = changes["due_at"]
            due_ms = None if due is None else _future_ms(due, "due_at", now)
            if due_ms != conv.due_at:
                values["due_at"] = due_ms
        if values or changed:
            if {"description", "due_at"} & values.keys():
                await _emit(
                    tx,
                    conv=conv,
                    type="conversation_updated",
                    source=source,
                    data={k: values[k] for k in ("description", "due_at") if k in values},
                )
            values["updated_at"] = now
            await crud.update(tx, conversations, company_id=conv.company_id, key=conv.id, **values)


async def _move(
    tx: Connection, *, principal: Principal, conv: store.Conversation, ref: str, source: log.Source
) -> dict[str, Any]:
    """Put ``conv`` in the inbox ``ref`` names (visible to the token) and no other; emits move
    with the inbox as target. The column values to write."""
    inbox = await access_inbox(tx, principal=principal, ref=ref)
    current = (await store.inbox_keys_of(tx, keys=[conv.id])).get(conv.id, [])
    if current == [inbox.id]:
        return {}
    others = [k for k in current if k != inbox.id]
    if others:
        await crud.unlink(
            tx,
            joins.CONVERSATION_INBOXES,
            company_id=conv.company_id,
            left_id=conv.id,
            right_ids=others,
        )
    await crud.link(
        tx,
        joins.CONVERSATION_INBOXES,
        company_id=conv.company_id,
        left_id=conv.id,
        right_ids=[inbox.id],
    )
    await _emit(
        tx, conv=conv, type="move", source=source, target_type="inboxes", target_id=inbox.id
    )
    return {"is_private": inbox.is_private}


async def do_set_assignee(
    db: Database, *, principal: Principal, conv: store.Conversation, ref: str | None
) -> None:
    """Assign ``conv`` to the teammate ``ref`` names, or unassign it (None)."""
    async with db.transaction() as tx:
        values = await _assign(
            tx, principal=principal, conv=conv, ref=ref, source=log.source_of(principal)
        )
        if values:
            values["updated_at"] = now_ms()
            await crud.update(tx, conversations, company_id=conv.company_id, key=conv.id, **values)


async def do_change_tags(
    db: Database,
    *,
    principal: Principal,
    conv: store.Conversation,
    refs_: list[str],
    add: bool,
) -> None:
    """Add (or remove) the tags ``refs_`` names; tags already there (or absent) are no change."""
    async with db.transaction() as tx:
        keys = await tag_keys(tx, principal=principal, refs_=refs_)
        changed = await retag(
            tx,
            conv=conv,
            add=keys if add else [],
            remove=[] if add else keys,
            source=log.source_of(principal),
        )
        if changed:
            await crud.update(
                tx, conversations, company_id=conv.company_id, key=conv.id, updated_at=now_ms()
            )


async def list_followers(
    conn: Reader, *, principal: Principal, conv: store.Conversation
) -> list[Teammate]:
    """The teammates following ``conv``, by key."""
    keys = await store.follower_keys(conn, key=conv.id)
    return await teammates_store.many(conn, company_id=principal.company_id, keys=keys)


async def do_change_followers(
    db: Database,
    *,
    principal: Principal,
    conv: store.Conversation,
    refs_: list[str],
    add: bool,
) -> None:
    """Add (or remove) followers; Porch logs ``followers_added`` / ``followers_removed``."""
    async with db.transaction() as tx:
        members = await teammates.access_teammates(tx, principal=principal, refs_=refs_)
        keys = list(dict.fromkeys(m.id for m in members))
        have = set(await store.follower_keys(tx, key=conv.id))
        change = [k for k in keys if (k not in have) == add]
        if not change:
            return
        if add:
            await crud.link(
                tx,
                joins.CONVERSATION_FOLLOWERS,
                company_id=conv.company_id,
                left_id=conv.id,
                right_ids=change,
            )
        else:
            await crud.unlink(
                tx,
                joins.CONVERSATION_FOLLOWERS,
                company_id=conv.company_id,
                left_id=conv.id,
                right_ids=change,
            )
        await _emit(
            tx,
            conv=conv,
            type="followers_added" if add else "followers_removed",
            source=log.source_of(principal),
            data={"teammate_ids": [ids.encode(ids.TEAMMATE, k) for k in change]},
        )


async def list_inboxes(
    conn: Reader, *, principal: Principal, conv: store.Conversation
) -> list[Inbox]:
    """The inboxes ``conv`` is in that the token sees."""
    keys = (await store.inbox_keys_of(conn, keys=[conv.id])).get(conv.id, [])
    return await inboxes_store.many_visible(
        conn, company_id=principal.company_id, keys=keys, vis=principal.visibility()
    )


async def do_set_reminder(
    db: Database,
    *,
    principal: Principal,
    conv: store.Conversation,
    teammate_ref: str,
    scheduled_at: float | None,
    status_ref: str | None,
) -> None:
    """Snooze ``conv`` for a teammate until ``scheduled_at`` (seconds), or cancel (None).

    A teammate has one reminder per conversation: setting it again reschedules it. While it is
    set the conversation is archived and, with ticketing, takes the waiting status given (or
    the default waiting one). Cancelling leaves the conversation where it is.
    """
    now = now_ms()
    when = None if scheduled_at is None else _future_ms(scheduled_at, "scheduled_at", now)
    source = log.source_of(principal)
    async with db.transaction() as tx:
        teammate = await teammates.access_teammate(tx, principal=principal, ref=teammate_ref)
        existing = await store.reminder_of(
            tx, company_id=conv.company_id, key=conv.id, teammate_id=teammate.id
        )
        if when is None:
            if existing is not None:
                await crud.delete(tx, reminders, company_id=conv.company_id, key=existing["id"])
                await _emit(
                    tx,
                    conv=conv,
                    type="reminder_cancelled",
                    source=source,
                    target_type="teammate",
                    target_id=teammate.id,
                )
            return
        ticketing = await statuses_store.ticketing_enabled(tx, company_id=conv.company_id)
        status = None
        if status_ref is not None or ticketing:
            status = await _ticket_status(
                tx, principal=principal, ref=status_ref, category="waiting"
            )
        row = {"scheduled_at": when, "status_id": status.id if status else None, "updated_at": now}
        if existing is None:
            await crud.insert(
                tx,
                reminders,
                company_id=conv.company_id,
                conversation_id=conv.id,
                teammate_id=teammate.id,
                created_at=now,
                fired_at=None,
                **row,
            )
        else:
            await crud.update(
                tx, reminders, company_id=conv.company_id, key=existing["id"], fired_at=None, **row
            )
        await _emit(
            tx,
            conv=conv,
            type="reminder_set",
            source=source,
            target_type="teammate",
            target_id=teammate.id,
            data={"scheduled_at": when},
        )
        if status is not None:
            values = await _set_status(
                tx,
                principal=principal,
                conv=conv,
                status=status,
                source=source,
                now=now,
                move=False,
            )
        else:
            values = {}
        # Snoozed: archived until the reminder reopens it.
        values.update(await move_state(tx, conv=conv, state="archived", source=source, now=now))
        values["updated_at"] = now
        await crud.update(tx, conversations, company_id=conv.company_id, key=conv.id, **values)


async def do_delete_conversation(
    db: Database, *, principal: Principal, conv: store.Conversation
) -> None:
    """Delete a trashed conversation for good (400 unless it is in the trash). Its events stay,
    and Porch logs ``conversation_deleted``."""
    if conv.state != "trashed":
        raise BadRequest("Only a conversation in the trash can be deleted")
    async with db.transaction() as tx:
        await store.delete_for_good(tx, company_id=conv.company_id, key=conv.id)
        await _emit(
            tx,
            conv=conv,
            type="conversation_deleted",
            source=log.source_of(principal),
            target_type="conversation",
            target_id=conv.id,
        )
