"""Comment rows, their mentions, and the batch reads that render them."""

from __future__ import annotations

from typing import NamedTuple

import sqlalchemy as sa

from porch.store.db import Query, Reader, Row, in_list
from porch.store.tables import comment_mentions, comments, teammates

t = comments
m = comment_mentions


class Comment(NamedTuple):
    """A comment row (fields are the table's columns, in order)."""

    id: int
    company_id: int
    conversation_id: int
    author_id: int
    body: str
    is_pinned: bool
    reply_to_id: int | None
    token_id: int | None
    posted_at: int
    updated_at: int

    @classmethod
    def from_row(cls, r: Row) -> Comment:
        return cls(*r)  # type: ignore[arg-type]  # a row is a sequence of the columns


assert list(Comment._fields) == [c.name for c in t.c], "Comment mirrors the comments table"

_cid = t.c.company_id == sa.bindparam("company_id")
_BY_KEY = Query(sa.select(t).where(_cid, t.c.id == sa.bindparam("key")))
_BY_KEYS = Query(sa.select(t).where(_cid, in_list(t.c.id, "keys")).order_by(t.c.id))
# Newest first, as Front lists comments (NOTES §3); the key breaks ties within a millisecond.
_OF_CONVERSATION = Query(
    sa.select(t)
    .where(_cid, t.c.conversation_id == sa.bindparam("conversation_id"))
    .order_by(t.c.posted_at.desc(), t.c.id.desc())
)
_MENTIONS_OF = Query(
    sa.select(m.c.comment_id, m.c.teammate_id)
    .where(m.c.company_id == sa.bindparam("company_id"), in_list(m.c.comment_id, "keys"))
    .order_by(m.c.comment_id, m.c.teammate_id)
)
_BY_USERNAMES = Query(
    sa.select(teammates.c.id, teammates.c.username).where(
        teammates.c.company_id == sa.bindparam("company_id"),
        in_list(teammates.c.username, "usernames"),
    )
)


async def get(conn: Reader, *, company_id: int, key: int) -> Comment | None:
    row = await conn.fetch_one(_BY_KEY, company_id=company_id, key=key)
    return Comment.from_row(row) if row else None


async def many(conn: Reader, *, company_id: int, keys: list[int]) -> list[Comment]:
    if not keys:
        return []
    rows = await conn.fetch_all(_BY_KEYS, company_id=company_id, keys=keys)
    return [Comment.from_row(r) for r in rows]


async def of_conversation(conn: Reader, *, company_id: int, conversation_id: int) -> list[Comment]:
    """Every comment of a conversation, newest first."""
    rows = await conn.fetch_all(
        _OF_CONVERSATION, company_id=company_id, conversation_id=conversation_id
    )
    return [Comment.from_row(r) for r in rows]


async def mention_keys_of(
    conn: Reader, *, company_id: int, keys: list[int]
) -> dict[int, list[int]]:
    """The keys of the teammates each comment mentions."""
    out: dict[int, list[int]] = {}
    if not keys:
        return out
    for r in await conn.fetch_all(_MENTIONS_OF, company_id=company_id, keys=keys):
        out.setdefault(r["comment_id"], []).append(r["teammate_id"])
    return out


async def teammate_keys_by_username(
    conn: Reader, *, company_id: int, usernames: list[str]
) -> dict[str, int]:
    """The keys of the company's teammates with these usernames (unknown ones are absent)."""
    if not usernames:
        return {}
    rows = await conn.fetch_all(_BY_USERNAMES, company_id=company_id, usernames=usernames)
    return {r["username"]: r["id"] for r in rows}
