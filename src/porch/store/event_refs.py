"""Batch reads of the objects a page of events names (conversations, tags, links), so that a
page renders in a fixed number of queries whatever its length."""

from __future__ import annotations

import sqlalchemy as sa

from porch.store.conversations import Conversation
from porch.store.db import Query, Reader, in_list, of_company
from porch.store.links import Link
from porch.store.tables import conversations, links, tags
from porch.store.tags import Tag


def _by_keys(table: sa.Table) -> Query:
    return Query(
        sa.select(table)
        .where(of_company(table.c.company_id), in_list(table.c.id, "keys"))
        .order_by(table.c.id)
    )


_CONVERSATIONS = _by_keys(conversations)
_TAGS = _by_keys(tags)
_LINKS = _by_keys(links)


async def conversations_by_key(
    conn: Reader, *, company_id: int, keys: list[int]
) -> dict[int, Conversation]:
    if not keys:
        return {}
    rows = await conn.fetch_all(_CONVERSATIONS, company_id=company_id, keys=keys)
    return {c.id: c for c in map(Conversation.from_row, rows)}


async def tags_by_key(conn: Reader, *, company_id: int, keys: list[int]) -> dict[int, Tag]:
    if not keys:
        return {}
    rows = await conn.fetch_all(_TAGS, company_id=company_id, keys=keys)
    return {t.id: t for t in map(Tag.from_row, rows)}


async def links_by_key(conn: Reader, *, company_id: int, keys: list[int]) -> dict[int, Link]:
    if not keys:
        return {}
    rows = await conn.fetch_all(_LINKS, company_id=company_id, keys=keys)
    return {link.id: link for link in map(Link.from_row, rows)}
