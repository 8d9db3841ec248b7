"""The SQL of a search's filters, per dialect: the text match, the sets of conversation keys,
the conditions on the conversation row, and the PostgreSQL search table's shortcut."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.sql.elements import ColumnElement

from porch.store.search.criteria import HANDLE_ROLES, Criteria
from porch.store.search.index import conversation_search
from porch.store.tables import (
    comment_mentions,
    comments,
    conversation_inboxes,
    conversation_links,
    conversation_tags,
    conversations,
    message_recipients,
    messages,
    reminders,
    statuses,
)

t = conversations


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


def search_table_only(c: Criteria, restricted: bool) -> bool:
    """True if the PostgreSQL search table alone (with the key sets) answers ``c``."""
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


def table_matches(c: Criteria) -> sa.Select[Any]:
    """PostgreSQL: the (key, activity) pairs of the matches of ``c`` (see search_table_only),
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


def conditions(c: Criteria, d: str, restricted: bool) -> list[ColumnElement[bool]]:
    """The conditions on a conversation row (``t``) that it matches ``c``; ``restricted``: it
    must also be visible to the token (parameters ``visible_inboxes`` and ``shared``)."""
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
