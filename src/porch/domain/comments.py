"""Comments: teammates' notes on a conversation, with @mentions and replies.

A comment is visible exactly when its conversation is; a comment of a merged conversation stays
reachable by its own id. ``@username`` in a body mentions the teammate of the company with that
username (Front's usernames are lowercase, so the match is case-sensitive; an unknown name is
plain text). Writing a comment emits Front's ``comment`` event and one ``mention`` per teammate
it newly mentions, and bumps the conversation's activity. Only the token that wrote a comment
may change its body, as in Front.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from porch import ids
from porch.domain import teammates
from porch.domain.errors import BadRequest, Forbidden, not_found
from porch.domain.principal import Principal
from porch.events import log
from porch.store import attachments as attachments_store
from porch.store import comments as store
from porch.store import conversations as conversations_store
from porch.store import crud, joins
from porch.store import teammates as teammates_store
from porch.store.conversations import Conversation
from porch.store.db import Connection, Database, Reader
from porch.store.tables import comment_mentions, conversations
from porch.store.tables import comments as comments_table
from porch.store.teammates import Teammate
from porch.timeutil import now_ms

# "@name" not glued to a word, an address or another mention before it, and ending where the
# username's characters end (so "@Dwight" and "a@dwight.com" mention nobody).
MENTION = re.compile(r"(?<![A-Za-z0-9_.@])@([a-z0-9_]+)(?![A-Za-z0-9_])")


@dataclass(frozen=True, slots=True)
class CommentView:
    """A comment with its author, as its Front shape shows it."""

    comment: store.Comment
    author: Teammate
    attachments: tuple[attachments_store.Attachment, ...] = ()


async def access_comment(conn: Reader, *, principal: Principal, ref: str) -> store.Comment:
    """The comment ``ref`` (``com_...``) names if the token sees its conversation (merged or
    not); NotFound otherwise."""
    key = ids.decode(ids.COMMENT, ref)
    found = None
    if key is not None:
        found = await store.get(conn, company_id=principal.company_id, key=key)
    if found is not None:
        conv = await conversations_store.get_visible(
            conn,
            company_id=principal.company_id,
            key=found.conversation_id,
            vis=principal.visibility(),
        )
        if conv is None:
            found = None
    if found is None:
        raise not_found("comment", ref)
    return found


async def views(
    conn: Reader, *, principal: Principal, comments: list[store.Comment]
) -> list[CommentView]:
    """Each comment with its author and attachments, loaded in one query each."""
    author_keys = sorted({c.author_id for c in comments})
    authors = {
        t.id: t
        for t in await teammates_store.many(conn, company_id=principal.company_id, keys=author_keys)
    }
    files = await attachments_store.of_owners(
        conn,
        company_id=principal.company_id,
        owner_type=attachments_store.COMMENT,
        keys=[c.id for c in comments],
    )
    return [
        CommentView(c, authors[c.author_id], tuple(files.get(c.id, ())))
        for c in comments
        if c.author_id in authors
    ]


async def list_comments(
    conn: Reader, *, principal: Principal, conversation: Conversation
) -> list[CommentView]:
    """Every comment of a conversation, newest first (Front does not page comments)."""
    rows = await store.of_conversation(
        conn, company_id=principal.company_id, conversation_id=conversation.id
    )
    return await views(conn, principal=principal, comments=rows)


async def list_mentions(
    conn: Reader, *, principal: Principal, comment: store.Comment
) -> list[Teammate]:
    """The teammates a comment mentions."""
    keys = await store.mention_keys_of(conn, company_id=principal.company_id, keys=[comment.id])
    return await teammates_store.many(
        conn, company_id=principal.company_id, keys=keys.get(comment.id, [])
    )


def mentioned_usernames(body: str) -> list[str]:
    """The distinct usernames ``@``-mentioned in ``body``, in order of first mention."""
    return list(dict.fromkeys(MENTION.findall(body)))


def check_body(body: str) -> None:
    if not body.strip():
        raise BadRequest("A comment needs a body")


async def _mention(
    tx: Connection,
    *,
    principal: Principal,
    comment_id: int,
    conversation_id: int,
    body: str,
    already: set[int],
) -> None:
    """Store the mentions of ``body`` and emit ``mention`` for those not in ``already``."""
    found = await store.teammate_keys_by_username(
        tx, company_id=principal.company_id, usernames=mentioned_usernames(body)
    )
    keys = list(dict.fromkeys(found.values()))
    if not keys:
        return
    await crud.link(
        tx,
        joins.COMMENT_MENTIONS,
        company_id=principal.company_id,
        left_id=comment_id,
        right_ids=keys,
    )
    for key in keys:
        if key in already:
            continue
        await log.append(
            tx,
            company_id=principal.company_id,
            type="mention",
            source=log.source_of(principal),
            target_type="teammate",
            target_id=key,
            conversation_id=conversation_id,
            data={"comment_id": comment_id},
        )


async def do_add_comment(
    db: Database,
    *,
    principal: Principal,
    conversation: Conversation,
    body: str,
    author_ref: str | None,
    is_pinned: bool,
    reply_to: store.Comment | None = None,
    files: Sequence[attachments_store.StoredFile] = (),
) -> store.Comment:
    """Add a comment (a reply to ``reply_to`` if given) to ``conversation``, with ``files``
    (already in the blob store) attached in the same transaction.

    The author is the teammate ``author_ref`` names, else the API bot teammate.
    """
    check_body(body)
    now = now_ms()
    async with db.transaction() as tx:
        if author_ref is not None:
            author = await teammates.access_teammate(tx, principal=principal, ref=author_ref)
            author_id = author.id
        else:
            author_id = await teammates.api_author(tx, principal=principal)
        key = await crud.insert(
            tx,
            comments_table,
            company_id=principal.company_id,
            conversation_id=conversation.id,
            author_id=author_id,
            body=body,
            is_pinned=is_pinned,
            reply_to_id=reply_to.id if reply_to else None,
            token_id=principal.token_id,
            posted_at=now,
            updated_at=now,
        )
        await attachments_store.insert(
            tx,
            company_id=principal.company_id,
            owner_type=attachments_store.COMMENT,
            owner_id=key,
            files=files,
            now=now,
        )
        await log.append(
            tx,
            company_id=principal.company_id,
            type="comment",
            source=log.source_of(principal),
            target_type="comment",
            target_id=key,
            conversation_id=conversation.id,
        )
        await _mention(
            tx,
            principal=principal,
            comment_id=key,
            conversation_id=conversation.id,
            body=body,
            already=set(),
        )
        await crud.update(
            tx,
            conversations,
            company_id=principal.company_id,
            key=conversation.id,
            activity_at=now,
            updated_at=now,
        )
        comment = await store.get(tx, company_id=principal.company_id, key=key)
    assert comment is not None
    return comment


async def do_update_comment(
    db: Database,
    *,
    principal: Principal,
    comment: store.Comment,
    body: str | None,
    is_pinned: bool | None,
) -> store.Comment:
    """Change a comment's body (only from the token that wrote it) or its pinning.

    A new body replaces the comment's mentions; teammates it newly mentions get ``mention``.
    """
    values: dict[str, object] = {}
    if body is not None:
        check_body(body)
        if principal.token_id is None or comment.token_id != principal.token_id:
            raise Forbidden("Only the token that created a comment can update its body")
        values["body"] = body
    if is_pinned is not None:
        values["is_pinned"] = is_pinned
    if not values:
        return comment
    values["updated_at"] = now_ms()
    async with db.transaction() as tx:
        await crud.update(
            tx, comments_table, company_id=comment.company_id, key=comment.id, **values
        )
        if body is not None:
            before = await store.mention_keys_of(
                tx, company_id=comment.company_id, keys=[comment.id]
            )
            await crud.delete_where(
                tx, comment_mentions, company_id=comment.company_id, comment_id=comment.id
            )
            await _mention(
                tx,
                principal=principal,
                comment_id=comment.id,
                conversation_id=comment.conversation_id,
                body=body,
                already=set(before.get(comment.id, [])),
            )
        await log.append(
            tx,
            company_id=comment.company_id,
            type="comment_updated",
            source=log.source_of(principal),
            target_type="comment",
            target_id=comment.id,
            conversation_id=comment.conversation_id,
            data={k: v for k, v in values.items() if k != "updated_at"},
        )
        updated = await store.get(tx, company_id=comment.company_id, key=comment.id)
    assert updated is not None
    return updated


async def conversation_of(
    conn: Reader, *, principal: Principal, comment: store.Comment
) -> Conversation:
    """Where a reply to ``comment`` goes: its conversation, or the one that conversation was
    merged into (the comment was already found visible through access)."""
    conv = await conversations_store.get(
        conn, company_id=principal.company_id, key=comment.conversation_id
    )
    # Follow a chain of merges, bounded as access_conversation bounds it.
    for _ in range(100):
        if conv is None or conv.merged_into_id is None:
            break
        conv = await conversations_store.get(
            conn, company_id=principal.company_id, key=conv.merged_into_id
        )
    if conv is None:
        raise not_found("comment", ids.encode(ids.COMMENT, comment.id))
    return conv
