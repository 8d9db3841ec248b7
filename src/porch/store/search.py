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
# Above this many matches a page walks conversations in activity order (see _text_match).
SCAN_ABOVE = 2000
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
SELECT c.id AS id, c.company_id AS company_id,
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
_INSERT_PG = (
    "INSERT INTO conversation_search (conversation_id, company_id, tsv) SELECT id, company_id, "  # noqa: S608
    f"to_tsvector('simple', left(doc, {MAX_DOC_CHARS})) FROM ({_DOC_PG}) d"
)
_REINDEX = [
    Query(
        sa.text("DELETE FROM conversation_fts WHERE rowid IN (SELECT value FROM json_each(:keys))"),
        postgresql=sa.text("DELETE FROM conversation_search WHERE conversation_id = ANY(:keys)"),
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


_ANALYZE = Query(sa.text("ANALYZE"))


async def refresh_statistics(tx: Connection) -> None:
    """Refresh the query planner's statistics (after a bulk load: without them SQLite may walk
    a company's every message to render a page of conversations)."""
    await tx.execute(_ANALYZE)


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


def _text_match(dialect: str, scan: bool = False) -> ColumnElement[bool]:
    """The conversation is among the index's matches. ``scan`` (SQLite) hides the key from the
    planner (``id + 0``) so that it walks conversations in activity order and stops after a
    page, instead of sorting every match: the better plan when matches are many."""
    if dialect == "postgresql":
        cs = conversation_search
        return t.c.id.in_(
            sa.select(cs.c.conversation_id).where(
                cs.c.company_id == sa.bindparam("company_id"),
                cs.c.tsv.op("@@")(sa.func.websearch_to_tsquery("simple", sa.bindparam("match"))),
            )
        )
    fts = sa.table("conversation_fts", sa.column("rowid"))
    key: ColumnElement[Any] = t.c.id + 0 if scan else t.c.id
    return key.in_(
        sa.select(fts.c.rowid).where(
            sa.literal_column("conversation_fts").op("MATCH")(sa.bindparam("match"))
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


def _in_conversations(sub: sa.Select[Any]) -> ColumnElement[bool]:
    return t.c.id.in_(sub)


def _authored(d: str, param: str) -> ColumnElement[bool]:
    return _in_conversations(
        sa.select(messages.c.conversation_id).where(
            _in(d, messages.c.author_id, param), messages.c.is_draft == sa.false()
        )
    )


def _commented(d: str, param: str) -> ColumnElement[bool]:
    return _in_conversations(
        sa.select(comments.c.conversation_id).where(_in(d, comments.c.author_id, param))
    )


def _mentioned(d: str, param: str) -> ColumnElement[bool]:
    return _in_conversations(
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


def _handles(d: str, name: str) -> ColumnElement[bool]:
    r = message_recipients
    return _in_conversations(
        sa.select(messages.c.conversation_id)
        .select_from(r.join(messages, messages.c.id == r.c.message_id))
        .where(
            r.c.company_id == sa.bindparam("company_id"),
            _in(d, r.c.handle, f"h_{name}"),
            _one_of(r.c.role, HANDLE_ROLES[name]),
            messages.c.is_draft == sa.false(),
        )
    )


def _where(c: Criteria, d: str, restricted: bool, scan: bool = False) -> list[ColumnElement[bool]]:
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
    if c.text:
        where.append(_text_match(d, scan))
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
    if c.inboxes:
        where.append(
            _in_conversations(
                sa.select(ci.c.conversation_id).where(_in(d, ci.c.inbox_id, "inboxes"))
            )
        )
    if c.tags:
        ct = conversation_tags
        where.append(
            _in_conversations(sa.select(ct.c.conversation_id).where(_in(d, ct.c.tag_id, "tags")))
        )
    if c.links:
        cl = conversation_links
        where.append(
            _in_conversations(sa.select(cl.c.conversation_id).where(_in(d, cl.c.link_id, "links")))
        )
    if c.assignees:
        where.append(_in(d, t.c.assignee_id, "assignees"))
    if c.authors:
        where.append(_authored(d, "authors"))
    if c.commenters:
        where.append(_commented(d, "commenters"))
    if c.mentions:
        where.append(_mentioned(d, "mentions"))
    if c.participants:
        where.append(
            sa.or_(
                _in(d, t.c.assignee_id, "participants"),
                _authored(d, "participants"),
                _commented(d, "participants"),
                _mentioned(d, "participants"),
            )
        )
    if c.contacts:
        r = message_recipients
        where.append(
            _in_conversations(
                sa.select(messages.c.conversation_id)
                .select_from(r.join(messages, messages.c.id == r.c.message_id))
                .where(_in(d, r.c.contact_id, "contacts"), messages.c.is_draft == sa.false())
            )
        )
    if c.custom_fields:
        where.append(sa.or_(*(_custom_field(d, i) for i in range(len(c.custom_fields)))))
    for name, _ in c.handles:
        where.append(_handles(d, name))
    if c.before is not None:
        where.append(t.c.activity_at < _p("before"))
    if c.after is not None:
        where.append(t.c.activity_at > _p("after_ms"))
    if c.during:
        where.append(
            sa.or_(
                *(
                    sa.and_(
                        t.c.activity_at >= _p(f"d_start_{i}"), t.c.activity_at < _p(f"d_end_{i}")
                    )
                    for i in range(len(c.during))
                )
            )
        )
    return where


def _build(c: Criteria, restricted: bool) -> tuple[Query, Query, Query]:
    """The page, page-by-scanning and count queries of a criteria shape (both dialects)."""
    at = sa.bindparam("at", type_=sa.BigInteger)
    key = sa.bindparam("key", type_=sa.BigInteger)
    after = sa.or_(t.c.activity_at < at, sa.and_(t.c.activity_at == at, t.c.id < key))
    order = (t.c.activity_at.desc(), t.c.id.desc())
    lim: sa.BindParameter[int] = sa.bindparam("lim")

    def page(d: str, scan: bool = False) -> sa.Select[Any]:
        where = _where(c, d, restricted, scan)
        return sa.select(t).where(*where, after).order_by(*order).limit(lim)

    def count(d: str) -> sa.Select[Any]:
        return sa.select(sa.func.count().label("n")).select_from(t).where(*_where(c, d, restricted))

    return (
        Query(page("sqlite"), postgresql=page("postgresql")),
        Query(page("sqlite", scan=True), postgresql=page("postgresql")),
        Query(count("sqlite"), postgresql=count("postgresql")),
    )


# Compiled queries per criteria shape; the number of shapes in use is small, but bounded anyway.
_CACHE: OrderedDict[tuple[Any, ...], tuple[Query, Query, Query]] = OrderedDict()
_CACHE_SIZE = 512


def _queries(c: Criteria, restricted: bool) -> tuple[Query, Query, Query]:
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
    page_q, scan_q, count_q = _queries(criteria, not everything)
    match = text_query(conn.dialect, criteria.text) if criteria.text else ""
    total_row = await conn.fetch_one(count_q, company_id=company_id, match=match, **params, **vis)
    total = int(total_row["n"]) if total_row else 0
    at, key = after if after is not None else (2**62, 2**62)
    rows = await conn.fetch_all(
        scan_q if total > SCAN_ABOVE else page_q,
        company_id=company_id,
        match=match,
        at=at,
        key=key,
        lim=limit,
        **params,
        **vis,
    )
    return [Conversation.from_row(r) for r in rows], total
