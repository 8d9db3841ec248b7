"""Contact rows, the handles that identify them, their notes, and the queries that read them.

A contact belongs to the company (as messages create them), to a team or to a teammate (a
private contact); visibility is that of other owned resources (``store/visibility.py``).
"""

from __future__ import annotations

from collections import defaultdict
from typing import NamedTuple

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql as pg_dialect
from sqlalchemy.dialects import sqlite as sqlite_dialect

from porch.store import sorted_pages
from porch.store.db import Connection, Query, Reader, Row, in_list, of_company
from porch.store.sorted_pages import Window
from porch.store.tables import (
    contact_handles,
    contact_list_members,
    contact_notes,
    contacts,
    message_recipients,
)
from porch.store.visibility import owned_by_visible

t = contacts
h = contact_handles
m = contact_list_members
n = contact_notes
r = message_recipients


class Contact(NamedTuple):
    """A contact row (fields are the table's columns, in order)."""

    id: int
    company_id: int
    name: str | None
    description: str | None
    is_private: bool
    custom_fields: str
    created_at: int
    updated_at: int
    team_id: int | None
    owner_teammate_id: int | None
    links: str
    name_is_manual: bool
    account_id: int | None

    @classmethod
    def from_row(cls, r: Row) -> Contact:
        return cls(*r)  # type: ignore[arg-type]  # a row is a sequence of the columns


class Note(NamedTuple):
    """A contact note row (fields are the table's columns, in order)."""

    id: int
    company_id: int
    contact_id: int
    author_id: int
    body: str
    created_at: int


assert list(Contact._fields) == [c.name for c in t.c], "Contact mirrors the contacts table"
assert list(Note._fields) == [c.name for c in n.c], "Note mirrors the contact_notes table"

_cid = t.c.company_id == sa.bindparam("company_id")
_visible = owned_by_visible(t)
_BY_KEY = Query(sa.select(t).where(_cid, t.c.id == sa.bindparam("key")))
_BY_KEY_VISIBLE = Query(sa.select(t).where(_cid, t.c.id == sa.bindparam("key"), _visible))
_BY_HANDLE = Query(
    sa.select(h.c.contact_id).where(
        h.c.company_id == sa.bindparam("company_id"),
        h.c.source == sa.bindparam("source"),
        h.c.handle == sa.bindparam("handle"),
    )
)

# Which contacts a list shows: every visible one, one team's, one teammate's, one contact
# list's members, or one account's contacts.
_SCOPES = {
    "all": sa.true(),
    "team": t.c.team_id == sa.bindparam("owner"),
    "teammate": t.c.owner_teammate_id == sa.bindparam("owner"),
    "list": t.c.id.in_(sa.select(m.c.contact_id).where(m.c.list_id == sa.bindparam("owner"))),
    "account": t.c.account_id == sa.bindparam("owner"),
}


def _page_query(scope: str, sort: str, descending: bool) -> Query:
    # A list's or an account's contacts are found from its members (their own indexes), not by
    # walking the company's contacts in order: the company index is kept out of the choice.
    company = of_company(t.c.company_id) if scope in ("list", "account") else _cid
    return Query(
        sa.select(t)
        .where(company, _visible, _SCOPES[scope], sorted_pages.where(t, sort, descending))
        .order_by(*sorted_pages.order(t, sort, descending))
        .limit(sa.bindparam("lim"))
    )


_PAGES = {
    (scope, sort, d): _page_query(scope, sort, d)
    for scope in _SCOPES
    for sort in sorted_pages.SORTS
    for d in (False, True)
}
_HANDLES_OF = Query(
    sa.select(h.c.contact_id, h.c.source, h.c.handle)
    .where(of_company(h.c.company_id), in_list(h.c.contact_id, "keys"))
    .order_by(h.c.contact_id, h.c.source, h.c.handle)
)
_TOUCH = Query(
    sa.update(t)
    .where(_cid, in_list(t.c.id, "keys"))
    .values(updated_at=sa.bindparam("now", type_=sa.BigInteger))
)
_REMOVE_HANDLE = Query(
    sa.delete(h).where(
        h.c.company_id == sa.bindparam("company_id"),
        h.c.contact_id == sa.bindparam("contact_id"),
        h.c.source == sa.bindparam("source"),
        h.c.handle == sa.bindparam("handle"),
    )
)
_NOTES_OF = Query(
    sa.select(n)
    .where(n.c.company_id == sa.bindparam("company_id"), n.c.contact_id == sa.bindparam("key"))
    .order_by(n.c.created_at.desc(), n.c.id.desc())
)


def _moved(table: sa.Table, company: sa.ColumnElement[bool]) -> Query:
    """Rows of ``table`` of the contacts ``:keys`` given to the contact ``:to``."""
    return Query(
        sa.update(table)
        .where(company, in_list(table.c.contact_id, "keys"))
        .values(contact_id=sa.bindparam("to", type_=sa.BigInteger))
    )


_MOVE = {
    "handles": _moved(h, of_company(h.c.company_id)),
    "notes": _moved(n, of_company(n.c.company_id)),
    "recipients": _moved(r, of_company(r.c.company_id)),
}
# A deleted contact's messages stay; their recipient rows keep the handle and lose the contact.
_FORGET_RECIPIENTS = Query(
    sa.update(r)
    .where(of_company(r.c.company_id), r.c.contact_id == sa.bindparam("key"))
    .values(contact_id=sa.null())
)
_DELETE_OF = {
    table.name: Query(
        sa.delete(table).where(of_company(table.c.company_id), in_list(table.c.contact_id, "keys"))
    )
    for table in (h, m, n)
}
_DELETE_CONTACTS = Query(sa.delete(t).where(_cid, in_list(t.c.id, "keys")))
_SET_ACCOUNT = Query(
    sa.update(t)
    .where(_cid, in_list(t.c.id, "keys"))
    .values(account_id=sa.bindparam("account_id", type_=sa.BigInteger))
)
_UNSET_ACCOUNT = Query(
    sa.update(t)
    .where(_cid, t.c.account_id == sa.bindparam("account_id"), in_list(t.c.id, "keys"))
    .values(account_id=sa.null())
)
_CLEAR_ACCOUNT = Query(
    sa.update(t)
    .where(of_company(t.c.company_id), t.c.account_id == sa.bindparam("account_id"))
    .values(account_id=sa.null())
)


async def get(conn: Reader, *, company_id: int, key: int) -> Contact | None:
    row = await conn.fetch_one(_BY_KEY, company_id=company_id, key=key)
    return Contact.from_row(row) if row else None


async def get_visible(
    conn: Reader, *, company_id: int, key: int, vis: dict[str, object]
) -> Contact | None:
    row = await conn.fetch_one(_BY_KEY_VISIBLE, company_id=company_id, key=key, **vis)
    return Contact.from_row(row) if row else None


async def key_by_handle(conn: Reader, *, company_id: int, source: str, handle: str) -> int | None:
    """The key of the contact holding the (canonical) handle, if any."""
    row = await conn.fetch_one(_BY_HANDLE, company_id=company_id, source=source, handle=handle)
    return int(row["contact_id"]) if row else None


async def page(
    conn: Reader,
    *,
    company_id: int,
    vis: dict[str, object],
    scope: str,
    owner: int | None,
    window: Window,
    limit: int,
) -> list[Contact]:
    """Up to ``limit`` visible contacts of ``scope`` in ``window``."""
    rows = await conn.fetch_all(
        _PAGES[(scope, window.sort, window.descending)],
        company_id=company_id,
        owner=owner,
        lim=limit,
        **window.params(),
        **vis,
    )
    return [Contact.from_row(r) for r in rows]


async def handles_of(
    conn: Reader, *, company_id: int, keys: list[int]
) -> dict[int, list[tuple[str, str]]]:
    """(source, handle) pairs of each contact of ``keys``."""
    rows = await conn.fetch_all(_HANDLES_OF, company_id=company_id, keys=keys)
    out: dict[int, list[tuple[str, str]]] = defaultdict(list)
    for row in rows:
        out[row["contact_id"]].append((row["source"], row["handle"]))
    return out


_HANDLE_VALUES: dict[str, sa.BindParameter[int | str]] = {
    "company_id": sa.bindparam("company_id"),
    "contact_id": sa.bindparam("contact_id"),
    "source": sa.bindparam("source"),
    "handle": sa.bindparam("handle"),
}
_HANDLE_KEY = ["company_id", "source", "handle"]
_ADD_HANDLE = Query(
    sqlite_dialect.insert(h)
    .values(_HANDLE_VALUES)
    .on_conflict_do_nothing(index_elements=_HANDLE_KEY),
    postgresql=pg_dialect.insert(h)
    .values(_HANDLE_VALUES)
    .on_conflict_do_nothing(index_elements=_HANDLE_KEY),
)


async def add_handle(
    tx: Connection, *, company_id: int, contact_id: int, source: str, handle: str
) -> bool:
    """Give the contact this handle; False if another contact holds it already (a concurrent
    writer may just have taken it: on PostgreSQL this waits for that writer to finish)."""
    added = await tx.execute(
        _ADD_HANDLE, company_id=company_id, contact_id=contact_id, source=source, handle=handle
    )
    return added == 1


async def remove_handle(
    tx: Connection, *, company_id: int, contact_id: int, source: str, handle: str
) -> bool:
    removed = await tx.execute(
        _REMOVE_HANDLE, company_id=company_id, contact_id=contact_id, source=source, handle=handle
    )
    return removed > 0


async def touch(tx: Connection, *, company_id: int, keys: list[int], now: int) -> None:
    """Mark contacts updated (their shape changed: a list, a handle)."""
    if keys:
        await tx.execute(_TOUCH, company_id=company_id, keys=keys, now=now)


async def move_to(tx: Connection, *, company_id: int, keys: list[int], to: int) -> None:
    """Give the handles, notes and message recipient rows of contacts ``keys`` to ``to``."""
    for query in _MOVE.values():
        await tx.execute(query, company_id=company_id, keys=keys, to=to)


async def delete_many(tx: Connection, *, company_id: int, keys: list[int]) -> None:
    """Delete contacts with their handles, list memberships and notes; their messages' recipient
    rows keep the handle and lose the contact."""
    for key in keys:
        await tx.execute(_FORGET_RECIPIENTS, company_id=company_id, key=key)
    for query in _DELETE_OF.values():
        await tx.execute(query, company_id=company_id, keys=keys)
    await tx.execute(_DELETE_CONTACTS, company_id=company_id, keys=keys)


async def set_account(tx: Connection, *, company_id: int, keys: list[int], account_id: int) -> None:
    await tx.execute(_SET_ACCOUNT, company_id=company_id, keys=keys, account_id=account_id)


async def unset_account(
    tx: Connection, *, company_id: int, keys: list[int], account_id: int
) -> None:
    await tx.execute(_UNSET_ACCOUNT, company_id=company_id, keys=keys, account_id=account_id)


async def clear_account(tx: Connection, *, company_id: int, account_id: int) -> None:
    await tx.execute(_CLEAR_ACCOUNT, company_id=company_id, account_id=account_id)


async def notes_of(conn: Reader, *, company_id: int, key: int) -> list[Note]:
    """A contact's notes, newest first."""
    rows = await conn.fetch_all(_NOTES_OF, company_id=company_id, key=key)
    return [Note(*(row[f] for f in Note._fields)) for row in rows]
