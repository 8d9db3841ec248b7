"""The full-text index of conversations and the search query over it.

Each conversation has one document: its subject, then the subject and plain text of every
message (drafts excepted), then the body of every comment. SQLite keeps documents in the FTS5
table ``conversation_fts`` (rowid = conversation key); PostgreSQL in ``conversation_search``
as a ``tsvector`` of the ``simple`` configuration (no stemming or stop words: words match as
written, in any language, case-insensitively) behind a GIN index. Both are created by migration
0008 and written only by the ``search_index`` consumer and ``rebuild``.

A search narrows by the index first, then by filters on indexed columns of the relational
tables, which are always current; only the text part is eventually consistent.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB, TSVECTOR
from sqlalchemy.sql.elements import ColumnElement

from porch.store.conversations import Conversation
from porch.store.db import Connection, Query, Reader
from porch.store.tables import (
    comment_mentions,
    comments,
    conversation_inboxes,
    conversation_links,
    conversation_tags,
    conversations,
    inboxes,
    message_recipients,
    messages,
    reminders,
    statuses,
)
from porch.store.visibility import owned_by_visible

t = conversations
# PostgreSQL keeps at most 1 MB per tsvector: documents are cut to this many characters (4 bytes
# a character at worst, and positions), so that no conversation can make indexing fail.
MAX_DOC_CHARS = 200_000

_pg_meta = sa.MetaData()
conversation_search = sa.Table(
    "conversation_search",
    _pg_meta,
    sa.Column("conversation_id", sa.BigInteger, primary_key=True),
    sa.Column("company_id", sa.BigInteger, nullable=False),
    sa.Column("tsv", TSVECTOR, nullable=False),
    # Copies of the conversation's columns, kept by triggers in the writing transaction
    # (migration 0010): a text search filters and pages on them without reading conversations.
    sa.Column("state", sa.Text, nullable=False),
    sa.Column("merged", sa.Boolean, nullable=False),
    sa.Column("activity_at", sa.BigInteger, nullable=False),
)

# --- Writing documents ------------------------------------------------------------------------

# The document of each conversation of :keys that exists and was not merged away.
_DOC_SQLITE = """
SELECT c.id AS id, c.company_id AS company_id,
       c.subject
       || ' ' || coalesce((SELECT group_concat(m.subject || ' ' || m.text, ' ')
                             FROM messages m
                            WHERE m.conversation_id = c.id AND m.is_draft = 0), '')
       || ' ' || coalesce((SELECT group_concat(k.body, ' ')
                             FROM comments k WHERE k.conversation_id = c.id), '') AS doc
  FROM conversations c
 WHERE c.id IN (SELECT value FROM json_each(:keys)) AND c.merged_into_id IS NULL
"""
_DOC_PG = """
SELECT c.id AS id, c.company_id AS company_id, c.state AS state, c.activity_at AS activity_at,
       c.subject
       || ' ' || coalesce((SELECT string_agg(m.subject || ' ' || m.text, ' ' ORDER BY m.id)
                             FROM messages m
                            WHERE m.conversation_id = c.id AND NOT m.is_draft), '')
       || ' ' || coalesce((SELECT string_agg(k.body, ' ' ORDER BY k.id)
                             FROM comments k WHERE k.conversation_id = c.id), '') AS doc
  FROM conversations c
 WHERE c.id = ANY(:keys) AND c.merged_into_id IS NULL
"""

# Every part is a constant of this module: no user text reaches these statements' SQL.
_INSERT_SQLITE = f"INSERT INTO conversation_fts (rowid, doc) SELECT id, doc FROM ({_DOC_SQLITE})"  # noqa: S608
# On PostgreSQL a live conversation's row is never deleted and rewritten, only its tsv: its
# other columns belong to the triggers, which a concurrent write may be running (an upsert
# serialises with them on the row; a delete and insert would lose their update). A row is
# missing only for a conversation older than those triggers.
_INSERT_PG = (
    "INSERT INTO conversation_search (conversation_id, company_id, tsv, state, merged,"  # noqa: S608
    f" activity_at) SELECT id, company_id, to_tsvector('simple', left(doc, {MAX_DOC_CHARS})),"
    f" state, false, activity_at FROM ({_DOC_PG}) d"
    " ON CONFLICT (conversation_id) DO UPDATE SET tsv = EXCLUDED.tsv"
)
_REINDEX = [
    Query(
        sa.text("DELETE FROM conversation_fts WHERE rowid IN (SELECT value FROM json_each(:keys))"),
        # Merged away for good: the document goes (rows of deleted conversations went with them).
        postgresql=sa.text(
            "DELETE FROM conversation_search s WHERE s.conversation_id = ANY(:keys) AND EXISTS"
            " (SELECT 1 FROM conversations c WHERE c.id = s.conversation_id"
            " AND c.merged_into_id IS NOT NULL)"
        ),
    ),
    Query(sa.text(_INSERT_SQLITE), postgresql=sa.text(_INSERT_PG)),
]
# Documents whose conversation is gone (deleted for good) or merged away.
_ORPHANS = Query(
    sa.text(
        "DELETE FROM conversation_fts WHERE rowid NOT IN "
        "(SELECT id FROM conversations WHERE merged_into_id IS NULL)"
    ),
    postgresql=sa.text(
        "DELETE FROM conversation_search s WHERE NOT EXISTS (SELECT 1 FROM conversations c "
        "WHERE c.id = s.conversation_id AND c.merged_into_id IS NULL)"
    ),
)
_KEYS_AFTER = Query(
    sa.select(t.c.id)
    .where(t.c.id > sa.bindparam("after", type_=sa.BigInteger))
    .order_by(t.c.id)
    .limit(sa.bindparam("lim"))
)
_COMPANY_KEYS_AFTER = Query(
    sa.select(t.c.id)
    .where(
        t.c.company_id == sa.bindparam("company_id"),
        t.c.id > sa.bindparam("after", type_=sa.BigInteger),
    )
    .order_by(t.c.id)
    .limit(sa.bindparam("lim"))
)


async def reindex(tx: Connection, *, keys: list[int]) -> None:
    """Rebuild the documents of the conversations ``keys`` from their rows; a conversation
    that is gone or merged away loses its document. Idempotent."""
    if not keys:
        return
    for q in _REINDEX:
        await tx.execute(q, keys=keys)


async def remove_orphans(tx: Connection) -> int:
    """Drop the documents of conversations that no longer exist or were merged."""
    return await tx.execute(_ORPHANS)


async def conversation_keys(
    conn: Reader, *, company_id: int | None, after: int, limit: int
) -> list[int]:
    """Up to ``limit`` conversation keys above ``after`` (of one company, or all), ascending."""
    if company_id is None:
        rows = await conn.fetch_all(_KEYS_AFTER, after=after, lim=limit)
    else:
        rows = await conn.fetch_all(
            _COMPANY_KEYS_AFTER, company_id=company_id, after=after, lim=limit
        )
    return [int(r["id"]) for r in rows]


# --- Searching --------------------------------------------------------------------------------

HANDLE_ROLES = {
    "from": ("from",),
    "to": ("to", "cc", "bcc"),
    "cc": ("cc",),
    "bcc": ("bcc",),
    "recipient": ("from", "to", "cc", "bcc", "reply-to"),
}


@dataclass(frozen=True, slots=True)
class Criteria:
    """What a search selects, resolved to keys; empty means "no such filter".

    Values of one filter are alternatives (OR); different filters all apply (AND).
    """

    # Words and phrases: every one must occur in the document.
    text: tuple[str, ...] = ()
    # Stored-state family of is: (open, archived, snoozed, trashed); empty: open or archived.
    states: frozenset[str] = frozenset()
    # True: assigned, False: unassigned, None: either.
    assigned: bool | None = None
    unreplied: bool = False
    ticket_categories: tuple[str, ...] = ()
    inboxes: tuple[int, ...] = ()
    tags: tuple[int, ...] = ()
    assignees: tuple[int, ...] = ()
    participants: tuple[int, ...] = ()
    authors: tuple[int, ...] = ()
    mentions: tuple[int, ...] = ()
    commenters: tuple[int, ...] = ()
    contacts: tuple[int, ...] = ()
    links: tuple[int, ...] = ()
    # (field name, JSON texts the stored value may have), one per custom_field: filter.
    custom_fields: tuple[tuple[str, tuple[str, ...]], ...] = ()
    # Handle filter name (from, to, cc, bcc, recipient) -> handles.
    handles: tuple[tuple[str, tuple[str, ...]], ...] = ()
    # Last activity in ms: before the latest ``before``, after the earliest ``after``, within
    # one of the ``during`` [start, end) ranges.
    before: int | None = None
    after: int | None = None
    during: tuple[tuple[int, int], ...] = ()

    def shape(self) -> tuple[Any, ...]:
        """What the SQL depends on (not the values): the cache key of the compiled query."""
        return (
            bool(self.text),
            self.states,
            self.assigned,
            self.unreplied,
            bool(self.ticket_categories),
            bool(self.inboxes),
            bool(self.tags),
            bool(self.assignees),
            bool(self.participants),
            bool(self.authors),
            bool(self.mentions),
            bool(self.commenters),
            bool(self.contacts),
            bool(self.links),
            len(self.custom_fields),
            tuple(name for name, _ in self.handles),
            self.before is not None,
            self.after is not None,
            len(self.during),
        )

    def params(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "ticket_categories": list(self.ticket_categories),
            "inboxes": list(self.inboxes),
            "tags": list(self.tags),
            "assignees": list(self.assignees),
            "participants": list(self.participants),
            "authors": list(self.authors),
            "mentions": list(self.mentions),
            "commenters": list(self.commenters),
            "contacts": list(self.contacts),
            "links": list(self.links),
            "before": self.before,
            "after_ms": self.after,
        }
        for i, (name, values) in enumerate(self.custom_fields):
            out[f"cf_name_{i}"] = name
            out[f"cf_path_{i}"] = f'$."{name}"'
            out[f"cf_values_{i}"] = list(values)
        for name, handles in self.handles:
            out[f"h_{name}"] = list(handles)
        for i, (start, end) in enumerate(self.during):
            out[f"d_start_{i}"] = start
            out[f"d_end_{i}"] = end
        return out


def _p(name: str) -> sa.BindParameter[Any]:
    return sa.bindparam(name, type_=sa.BigInteger)


def _in(d: str, column: ColumnElement[Any], param: str) -> ColumnElement[bool]:
    """``column`` is one of the list parameter ``param``, as a plain comparison (so SQLite
    uses an index on ``column``; porch.store.db.in_list renders ``(... IN ...) = 1`` there)."""
    if d == "postgresql":
        return column == sa.any_(sa.bindparam(param))
    values: sa.Select[Any] = sa.select(sa.column("value")).select_from(
        sa.func.json_each(sa.bindparam(param))
    )
    return column.in_(values.scalar_subquery())


def _one_of(column: ColumnElement[Any], values: tuple[str, ...]) -> ColumnElement[bool]:
    """``column IN (constants)`` that compiles to plain SQL (no expanding parameter)."""
    return sa.or_(*(column == v for v in values))


def _cid() -> ColumnElement[bool]:
    return t.c.company_id == sa.bindparam("company_id")


def _text_match(dialect: str, keysets: list[sa.Select[Any]]) -> ColumnElement[bool]:
    """The conversation is among the index's matches, and among each of ``keysets`` (queries
    of conversation keys). On SQLite the key sets filter the index's matches before any
    conversation row is read: the index yields its matches quickly, and probing each key set
    (built once) per match costs far less than reading each match's conversation. (``+ 0``
    keeps FTS5 from taking the set as a rowid constraint, which it would probe key by key.)
    PostgreSQL's planner orders semi-joins by itself, so there they stay side by side."""
    if dialect == "postgresql":
        cs = conversation_search
        return sa.and_(
            t.c.id.in_(
                sa.select(cs.c.conversation_id).where(
                    cs.c.company_id == sa.bindparam("company_id"),
                    cs.c.tsv.op("@@")(
                        sa.func.websearch_to_tsquery("simple", sa.bindparam("match"))
                    ),
                )
            ),
            *(t.c.id.in_(k) for k in keysets),
        )
    fts = sa.table("conversation_fts", sa.column("rowid"))
    return t.c.id.in_(
        sa.select(fts.c.rowid).where(
            sa.literal_column("conversation_fts").op("MATCH")(sa.bindparam("match")),
            *((fts.c.rowid + 0).in_(k) for k in keysets),
        )
    )


_active_reminder = sa.exists(
    sa.select(reminders.c.id).where(
        reminders.c.conversation_id == t.c.id, reminders.c.fired_at.is_(None)
    )
)
_STATE_CONDS: dict[str, ColumnElement[bool]] = {
    "open": t.c.state == "open",
    "archived": sa.and_(t.c.state == "archived", ~_active_reminder),
    "snoozed": sa.and_(_one_of(t.c.state, ("open", "archived")), _active_reminder),
    "trashed": t.c.state == "trashed",
}


def _authored(d: str, param: str) -> sa.Select[Any]:
    return sa.select(messages.c.conversation_id).where(
        _in(d, messages.c.author_id, param), messages.c.is_draft == sa.false()
    )


def _commented(d: str, param: str) -> sa.Select[Any]:
    return sa.select(comments.c.conversation_id).where(_in(d, comments.c.author_id, param))


def _mentioned(d: str, param: str) -> sa.Select[Any]:
    return (
        sa.select(comments.c.conversation_id)
        .join(comment_mentions, comment_mentions.c.comment_id == comments.c.id)
        .where(_in(d, comment_mentions.c.teammate_id, param))
    )


def _custom_field(d: str, i: int) -> ColumnElement[bool]:
    value: ColumnElement[Any]
    if d == "postgresql":
        value = sa.cast(
            sa.cast(t.c.custom_fields, JSONB).op("->")(sa.bindparam(f"cf_name_{i}", type_=sa.Text)),
            sa.Text,
        )
    else:
        value = t.c.custom_fields.op("->")(sa.bindparam(f"cf_path_{i}"))
    return _in(d, value, f"cf_values_{i}")


def _handles(d: str, name: str) -> sa.Select[Any]:
    r = message_recipients
    return (
        sa.select(messages.c.conversation_id)
        .select_from(r.join(messages, messages.c.id == r.c.message_id))
        .where(
            r.c.company_id == sa.bindparam("company_id"),
            _in(d, r.c.handle, f"h_{name}"),
            _one_of(r.c.role, HANDLE_ROLES[name]),
            messages.c.is_draft == sa.false(),
        )
    )


def _keysets(c: Criteria, d: str) -> list[sa.Select[Any]]:
    """The filters of ``c`` that are each a set of conversation keys (a query of them)."""
    ci, ct, cl, r = conversation_inboxes, conversation_tags, conversation_links, message_recipients
    out: list[sa.Select[Any]] = []
    if c.inboxes:
        out.append(sa.select(ci.c.conversation_id).where(_in(d, ci.c.inbox_id, "inboxes")))
    if c.tags:
        out.append(sa.select(ct.c.conversation_id).where(_in(d, ct.c.tag_id, "tags")))
    if c.links:
        out.append(sa.select(cl.c.conversation_id).where(_in(d, cl.c.link_id, "links")))
    if c.authors:
        out.append(_authored(d, "authors"))
    if c.commenters:
        out.append(_commented(d, "commenters"))
    if c.mentions:
        out.append(_mentioned(d, "mentions"))
    if c.contacts:
        out.append(
            sa.select(messages.c.conversation_id)
            .select_from(r.join(messages, messages.c.id == r.c.message_id))
            .where(_in(d, r.c.contact_id, "contacts"), messages.c.is_draft == sa.false())
        )
    for name, _ in c.handles:
        out.append(_handles(d, name))
    return out


def _dates(c: Criteria, activity_at: ColumnElement[Any]) -> list[ColumnElement[bool]]:
    """The before/after/during filters on ``activity_at``."""
    out: list[ColumnElement[bool]] = []
    if c.before is not None:
        out.append(activity_at < _p("before"))
    if c.after is not None:
        out.append(activity_at > _p("after_ms"))
    if c.during:
        out.append(
            sa.or_(
                *(
                    sa.and_(activity_at >= _p(f"d_start_{i}"), activity_at < _p(f"d_end_{i}"))
                    for i in range(len(c.during))
                )
            )
        )
    return out


# Criteria whose every filter the PostgreSQL search table can answer alone (with the key sets):
# the stored states (but archived, which excludes snoozed, a reminder away), text, dates.
_TABLE_STATES = frozenset(["open", "trashed"])


def _search_table_only(c: Criteria, restricted: bool) -> bool:
    return (
        bool(c.text)
        and not restricted
        and c.states <= _TABLE_STATES
        and c.assigned is None
        and not c.unreplied
        and not c.ticket_categories
        and not c.assignees
        and not c.participants
        and not c.custom_fields
    )


def _table_matches(c: Criteria) -> sa.Select[Any]:
    """PostgreSQL: the (key, activity) pairs of the matches of ``c`` (see _search_table_only),
    from ``conversation_search`` alone: its GIN index finds the text, its own columns filter."""
    cs = conversation_search
    states = tuple(sorted(c.states)) or ("open", "archived")
    return sa.select(cs.c.conversation_id.label("id"), cs.c.activity_at.label("activity_at")).where(
        cs.c.company_id == sa.bindparam("company_id"),
        cs.c.tsv.op("@@")(sa.func.websearch_to_tsquery("simple", sa.bindparam("match"))),
        cs.c.merged == sa.false(),
        _one_of(cs.c.state, states),
        *(cs.c.conversation_id.in_(k) for k in _keysets(c, "postgresql")),
        *_dates(c, cs.c.activity_at),
    )


def _where(c: Criteria, d: str, restricted: bool) -> list[ColumnElement[bool]]:
    ci = conversation_inboxes
    # Visible: in an inbox the token sees (their keys are looked up first, so this is one
    # index lookup per row), or in no inbox at all for shared tokens (as in
    # store.conversations.visible). Tokens that see every inbox skip the test.
    seen: ColumnElement[bool] = sa.true()
    if restricted:
        seen = sa.or_(
            sa.exists(
                sa.select(ci.c.inbox_id).where(
                    ci.c.conversation_id == t.c.id, _in(d, ci.c.inbox_id, "visible_inboxes")
                )
            ),
            sa.and_(
                sa.bindparam("shared", type_=sa.Boolean),
                ~sa.exists(sa.select(ci.c.inbox_id).where(ci.c.conversation_id == t.c.id)),
            ),
        )
    where: list[ColumnElement[bool]] = [_cid(), t.c.merged_into_id.is_(None), seen]
    # Filters that are a set of conversation keys: they go with the text match, if any.
    keysets = _keysets(c, d)
    if c.states:
        where.append(sa.or_(*(_STATE_CONDS[s] for s in sorted(c.states))))
    else:
        where.append(_one_of(t.c.state, ("open", "archived")))
    if c.assigned is not None:
        where.append(t.c.assignee_id.is_not(None) if c.assigned else t.c.assignee_id.is_(None))
    if c.unreplied:
        last_inbound = (
            sa.select(messages.c.is_inbound)
            .where(messages.c.conversation_id == t.c.id, messages.c.is_draft == sa.false())
            .order_by(messages.c.created_at.desc(), messages.c.id.desc())
            .limit(1)
            .scalar_subquery()
        )
        where.append(last_inbound == sa.true())
    if c.ticket_categories:
        where.append(
            t.c.status_id.in_(
                sa.select(statuses.c.id).where(
                    statuses.c.company_id == sa.bindparam("company_id"),
                    _in(d, statuses.c.category, "ticket_categories"),
                )
            )
        )
    if c.assignees:
        where.append(_in(d, t.c.assignee_id, "assignees"))
    if c.participants:
        where.append(
            sa.or_(
                _in(d, t.c.assignee_id, "participants"),
                t.c.id.in_(_authored(d, "participants")),
                t.c.id.in_(_commented(d, "participants")),
                t.c.id.in_(_mentioned(d, "participants")),
            )
        )
    if c.custom_fields:
        where.append(sa.or_(*(_custom_field(d, i) for i in range(len(c.custom_fields)))))
    where.extend(_dates(c, t.c.activity_at))
    if c.text:
        where.append(_text_match(d, keysets))
    else:
        where.extend(t.c.id.in_(k) for k in keysets)
    return where


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
        if d == "postgresql" and _search_table_only(c, restricted):
            found = _table_matches(c)
        else:
            found = sa.select(t.c.id.label("id"), t.c.activity_at.label("activity_at")).where(
                *_where(c, d, restricted)
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
