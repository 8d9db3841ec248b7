"""Message template and template folder rows, and the queries that read them."""

from __future__ import annotations

from typing import Any, NamedTuple

import sqlalchemy as sa

from porch.store.crud import Join
from porch.store.db import Query, Reader, Row, in_list
from porch.store.tables import message_template_folders, message_template_inboxes, message_templates
from porch.store.visibility import owned_by_visible

f = message_template_folders
t = message_templates
INBOXES = Join(message_template_inboxes, "template_id", "inbox_id")
# Orders a list may ask for (``sort_by``); pages are keyset pages on (that column, id).
SORTS = ("id", "created_at", "updated_at")
_MAX_KEY = 2**63 - 1


class Folder(NamedTuple):
    """A folder row, with whether it holds child folders and templates (for its links)."""

    id: int
    company_id: int
    name: str
    parent_id: int | None
    team_id: int | None
    owner_teammate_id: int | None
    created_at: int
    updated_at: int
    has_folders: bool
    has_templates: bool

    @classmethod
    def from_row(cls, r: Row) -> Folder:
        return cls(*r)  # type: ignore[arg-type]  # a row is a sequence of the columns


class Template(NamedTuple):
    """A template row (fields are the table's columns, in order)."""

    id: int
    company_id: int
    name: str
    subject: str | None
    body: str
    folder_id: int | None
    team_id: int | None
    owner_teammate_id: int | None
    is_available_for_all_inboxes: bool
    created_at: int
    updated_at: int

    @classmethod
    def from_row(cls, r: Row) -> Template:
        return cls(*r)  # type: ignore[arg-type]  # a row is a sequence of the columns


assert list(Folder._fields[:-2]) == [c.name for c in f.c], "Folder mirrors its table"
assert list(Template._fields) == [c.name for c in t.c], "Template mirrors its table"

_child = f.alias("child")
_FOLDER_COLS = sa.select(
    f,
    sa.exists().where(_child.c.parent_id == f.c.id).label("has_folders"),
    sa.exists().where(t.c.folder_id == f.c.id).label("has_templates"),
)
_fcid = f.c.company_id == sa.bindparam("company_id")
_tcid = t.c.company_id == sa.bindparam("company_id")
_FOLDER_BY_KEY = Query(
    _FOLDER_COLS.where(_fcid, f.c.id == sa.bindparam("key"), owned_by_visible(f))
)
_TEMPLATE_BY_KEY = Query(
    sa.select(t).where(_tcid, t.c.id == sa.bindparam("key"), owned_by_visible(t))
)

_FOLDER_SCOPES = {
    "all": sa.true(),
    "team": f.c.team_id == sa.bindparam("owner"),
    "teammate": f.c.owner_teammate_id == sa.bindparam("owner"),
    "children": f.c.parent_id == sa.bindparam("owner"),
}
_TEMPLATE_SCOPES = {
    "all": sa.true(),
    "team": t.c.team_id == sa.bindparam("owner"),
    "teammate": t.c.owner_teammate_id == sa.bindparam("owner"),
    "folder": t.c.folder_id == sa.bindparam("owner"),
}


def _after(table: sa.Table, sort: str, descending: bool) -> sa.ColumnElement[bool]:
    col = table.c[sort]
    value: sa.BindParameter[int] = sa.bindparam("after_v", type_=sa.BigInteger)
    key: sa.BindParameter[int] = sa.bindparam("after_id", type_=sa.BigInteger)
    if descending:
        return sa.or_(col < value, sa.and_(col == value, table.c.id < key))
    return sa.or_(col > value, sa.and_(col == value, table.c.id > key))


def _order(table: sa.Table, sort: str, descending: bool) -> list[Any]:
    cols = [table.c[sort], table.c.id]
    return [c.desc() for c in cols] if descending else cols


def _folder_page(scope: str, sort: str, descending: bool) -> Query:
    return Query(
        _FOLDER_COLS.where(_fcid, owned_by_visible(f), _FOLDER_SCOPES[scope])
        .where(_after(f, sort, descending))
        .order_by(*_order(f, sort, descending))
        .limit(sa.bindparam("lim"))
    )


def _template_page(scope: str, sort: str, descending: bool) -> Query:
    return Query(
        sa.select(t)
        .where(_tcid, owned_by_visible(t), _TEMPLATE_SCOPES[scope], _after(t, sort, descending))
        .order_by(*_order(t, sort, descending))
        .limit(sa.bindparam("lim"))
    )


_FOLDER_PAGES = {
    (sc, so, d): _folder_page(sc, so, d)
    for sc in _FOLDER_SCOPES
    for so in SORTS
    for d in (False, True)
}
_TEMPLATE_PAGES = {
    (sc, so, d): _template_page(sc, so, d)
    for sc in _TEMPLATE_SCOPES
    for so in SORTS
    for d in (False, True)
}
_CHILD_FOLDER_KEYS = Query(sa.select(f.c.id).where(_fcid, in_list(f.c.parent_id, "keys")))
_TEMPLATE_KEYS_IN = Query(sa.select(t.c.id).where(_tcid, in_list(t.c.folder_id, "keys")))
_INBOXES_OF = Query(
    sa.select(message_template_inboxes.c.template_id, message_template_inboxes.c.inbox_id)
    .where(
        message_template_inboxes.c.company_id == sa.bindparam("company_id"),
        in_list(message_template_inboxes.c.template_id, "keys"),
    )
    .order_by(message_template_inboxes.c.template_id, message_template_inboxes.c.inbox_id)
)


def _first_key(after: tuple[int, int] | None, descending: bool) -> tuple[int, int]:
    if after is not None:
        return after
    return (_MAX_KEY, _MAX_KEY) if descending else (-_MAX_KEY, 0)


async def get_folder(
    conn: Reader, *, company_id: int, key: int, vis: dict[str, object]
) -> Folder | None:
    """The folder ``key`` if ``vis`` (a principal's visibility) sees it."""
    row = await conn.fetch_one(_FOLDER_BY_KEY, company_id=company_id, key=key, **vis)
    return Folder.from_row(row) if row else None


async def get_template(
    conn: Reader, *, company_id: int, key: int, vis: dict[str, object]
) -> Template | None:
    """The template ``key`` if ``vis`` (a principal's visibility) sees it."""
    row = await conn.fetch_one(_TEMPLATE_BY_KEY, company_id=company_id, key=key, **vis)
    return Template.from_row(row) if row else None


async def folder_page(
    conn: Reader,
    *,
    company_id: int,
    vis: dict[str, object],
    scope: str,
    owner: int | None,
    sort: str,
    after: tuple[int, int] | None,
    limit: int,
    descending: bool,
) -> list[Folder]:
    """Up to ``limit`` visible folders of ``scope`` after the key (sort value, id) ``after``."""
    value, key = _first_key(after, descending)
    rows = await conn.fetch_all(
        _FOLDER_PAGES[(scope, sort, descending)],
        company_id=company_id,
        owner=owner,
        after_v=value,
        after_id=key,
        lim=limit,
        **vis,
    )
    return [Folder.from_row(r) for r in rows]


async def template_page(
    conn: Reader,
    *,
    company_id: int,
    vis: dict[str, object],
    scope: str,
    owner: int | None,
    sort: str,
    after: tuple[int, int] | None,
    limit: int,
    descending: bool,
) -> list[Template]:
    """Up to ``limit`` visible templates of ``scope`` after the key (sort value, id) ``after``."""
    value, key = _first_key(after, descending)
    rows = await conn.fetch_all(
        _TEMPLATE_PAGES[(scope, sort, descending)],
        company_id=company_id,
        owner=owner,
        after_v=value,
        after_id=key,
        lim=limit,
        **vis,
    )
    return [Template.from_row(r) for r in rows]


async def child_folder_keys(conn: Reader, *, company_id: int, keys: list[int]) -> list[int]:
    """Keys of the folders whose parent is one of ``keys`` (one level down)."""
    rows = await conn.fetch_all(_CHILD_FOLDER_KEYS, company_id=company_id, keys=keys)
    return [int(r["id"]) for r in rows]


async def template_keys_in(conn: Reader, *, company_id: int, folder_keys: list[int]) -> list[int]:
    """Keys of the templates directly in one of ``folder_keys``."""
    if not folder_keys:
        return []
    rows = await conn.fetch_all(_TEMPLATE_KEYS_IN, company_id=company_id, keys=folder_keys)
    return [int(r["id"]) for r in rows]


async def inboxes_of(conn: Reader, *, company_id: int, keys: list[int]) -> dict[int, list[int]]:
    """The inbox keys each template is restricted to (templates without any are absent)."""
    out: dict[int, list[int]] = {}
    if not keys:
        return out
    for r in await conn.fetch_all(_INBOXES_OF, company_id=company_id, keys=keys):
        out.setdefault(int(r["template_id"]), []).append(int(r["inbox_id"]))
    return out
