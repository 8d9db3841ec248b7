"""The search statement (matches counted and paged in one pass), compiled once per criteria
shape, and the search itself."""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

import sqlalchemy as sa

from porch.store.conversations import Conversation
from porch.store.db import Query, Reader
from porch.store.search.criteria import Criteria
from porch.store.search.filters import conditions, search_table_only, table_matches
from porch.store.tables import conversations, inboxes
from porch.store.visibility import owned_by_visible

t = conversations


def _build(c: Criteria, restricted: bool) -> Query:
    """The search statement of a criteria shape (both dialects): one row per conversation of
    the page, each with the total as its first column, or a single row with the total and
    nulls when the page is empty.

    The matches are computed once, as (key, activity) pairs, and both counted and paged from
    there: counting is what costs when matches are many, and a second pass over the same
    matches for the page would cost as much again. Only the page's rows are read in full.
    """
    lim: sa.BindParameter[int] = sa.bindparam("lim")

    def stmt(d: str) -> sa.Select[Any]:
        found: sa.Select[Any]
        if d == "postgresql" and search_table_only(c, restricted):
            found = table_matches(c)
        else:
            found = sa.select(t.c.id.label("id"), t.c.activity_at.label("activity_at")).where(
                *conditions(c, d, restricted)
            )
        matches = found.cte("matches").prefix_with("MATERIALIZED")
        at = sa.bindparam("at", type_=sa.BigInteger)
        key = sa.bindparam("key", type_=sa.BigInteger)
        keys = (
            sa.select(matches.c.id, matches.c.activity_at)
            .where(
                sa.or_(
                    matches.c.activity_at < at,
                    sa.and_(matches.c.activity_at == at, matches.c.id < key),
                )
            )
            .order_by(matches.c.activity_at.desc(), matches.c.id.desc())
            .limit(lim)
            .subquery("keys")
        )
        page = (
            sa.select(t, keys.c.activity_at.label("page_at"))
            .select_from(keys.join(t, t.c.id == keys.c.id))
            .subquery("page")
        )
        total = sa.select(sa.func.count().label("n")).select_from(matches).subquery("total")
        columns = [page.c[col.name] for col in t.columns]
        return (
            sa.select(total.c.n, *columns)
            .select_from(total.outerjoin(page, sa.true()))
            .order_by(page.c.page_at.desc(), page.c.id.desc())
        )

    return Query(stmt("sqlite"), postgresql=stmt("postgresql"), custom_plan=True)


# Compiled statements per criteria shape; the number of shapes in use is small, but bounded.
_CACHE: OrderedDict[tuple[Any, ...], Query] = OrderedDict()
_CACHE_SIZE = 512


def _queries(c: Criteria, restricted: bool) -> Query:
    shape = (restricted, *c.shape())
    found = _CACHE.get(shape)
    if found is None:
        found = _build(c, restricted)
        _CACHE[shape] = found
        if len(_CACHE) > _CACHE_SIZE:
            _CACHE.popitem(last=False)
    else:
        _CACHE.move_to_end(shape)
    return found


_VISIBLE_INBOXES = Query(
    sa.select(inboxes.c.id).where(
        inboxes.c.company_id == sa.bindparam("company_id"), owned_by_visible(inboxes)
    )
)


_INBOX_COUNT = Query(
    sa.select(sa.func.count().label("n")).where(inboxes.c.company_id == sa.bindparam("company_id"))
)


async def _inbox_count(conn: Reader, company_id: int) -> int:
    row = await conn.fetch_one(_INBOX_COUNT, company_id=company_id)
    return int(row["n"]) if row else 0


def text_query(dialect: str, text: tuple[str, ...]) -> str:
    """The index query for words and phrases that must all occur: every one becomes a quoted
    phrase of the engine's syntax, so nothing the user typed is read as an operator."""
    if dialect == "postgresql":
        # websearch_to_tsquery: "a b" is a phrase, phrases side by side are ANDed.
        return " ".join('"' + term.replace('"', " ") + '"' for term in text)
    return " ".join('"' + term.replace('"', '""') + '"' for term in text)


async def search(
    conn: Reader,
    *,
    company_id: int,
    vis: dict[str, object],
    criteria: Criteria,
    after: tuple[int, int] | None,
    limit: int,
) -> tuple[list[Conversation], int]:
    """Up to ``limit`` matching conversations after the key (activity_at, id), latest activity
    first, and how many match in all."""
    params = criteria.params()
    seen = [
        int(r["id"]) for r in await conn.fetch_all(_VISIBLE_INBOXES, company_id=company_id, **vis)
    ]
    everything = bool(vis.get("shared")) and len(seen) == await _inbox_count(conn, company_id)
    params["visible_inboxes"] = seen
    stmt = _queries(criteria, not everything)
    match = text_query(conn.dialect, criteria.text) if criteria.text else ""
    at, key = after if after is not None else (2**62, 2**62)
    rows = await conn.fetch_all(
        stmt, company_id=company_id, match=match, at=at, key=key, lim=limit, **params, **vis
    )
    total = int(rows[0]["n"]) if rows else 0
    # Each row is the total, then the conversation's columns (all null when the page is empty).
    page = [Conversation(*list(r)[1:]) for r in rows if r["id"] is not None]  # type: ignore[arg-type]
    return page, total
