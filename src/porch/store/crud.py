"""Generic single-table writes, compiled once per (table, columns) and reused.

Most actions insert one row, update a few columns of one row, or add and remove rows of a
join table; these helpers spare every store module its own statement for each.
Every helper takes ``company_id`` so that no write can cross a company boundary.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from porch.store.db import Connection, Query, in_list, insert_query

_cache: dict[tuple[str, str, tuple[str, ...]], Query] = {}


def _param(table: sa.Table, name: str) -> sa.BindParameter[Any]:
    return sa.bindparam(name, type_=table.c[name].type)


def _query(kind: str, table: sa.Table, cols: tuple[str, ...], build: Any) -> Query:
    key = (kind, table.name, cols)
    q = _cache.get(key)
    if q is None:
        built = build()
        q = _cache[key] = built if isinstance(built, Query) else Query(built)
    return q


async def insert(tx: Connection, table: sa.Table, **values: Any) -> int:
    """Insert one row (``values`` must include ``company_id``) and return its key."""
    cols = tuple(sorted(values))
    q = _query(
        "insert",
        table,
        cols,
        lambda: insert_query(
            sa.insert(table).values({c: _param(table, c) for c in cols}), table.c.id
        ),
    )
    return await tx.insert(q, **values)


async def insert_row(tx: Connection, table: sa.Table, **values: Any) -> list[Any]:
    """Insert one row given every column but its key, and return the row's values in column
    order (key included): for writers that go on with the row, without reading it back."""
    missing = [c.name for c in table.c if c.name != "id" and c.name not in values]
    assert not missing, f"insert_row needs every column of {table.name}: {missing}"
    key = await insert(tx, table, **values)
    return [key if c.name == "id" else values[c.name] for c in table.c]


async def update(
    tx: Connection, table: sa.Table, *, company_id: int, key: int, **values: Any
) -> int:
    """Set ``values`` on the row ``key`` of ``company_id``; returns the number of rows changed."""
    if not values:
        return 0
    cols = tuple(sorted(values))
    # The companies table is its own tenant: its key is the company.
    owner = table.c.company_id if "company_id" in table.c else table.c.id
    q = _query(
        "update",
        table,
        cols,
        lambda: (
            sa.update(table)
            .where(table.c.id == sa.bindparam("_key"), owner == sa.bindparam("_company"))
            .values({c: _param(table, c) for c in cols})
        ),
    )
    return await tx.execute(q, _key=key, _company=company_id, **values)


async def delete(tx: Connection, table: sa.Table, *, company_id: int, key: int) -> int:
    """Delete the row ``key`` of ``company_id``."""
    q = _query(
        "delete",
        table,
        (),
        lambda: sa.delete(table).where(
            table.c.id == sa.bindparam("_key"), table.c.company_id == sa.bindparam("_company")
        ),
    )
    return await tx.execute(q, _key=key, _company=company_id)


async def delete_where(tx: Connection, table: sa.Table, *, company_id: int, **match: Any) -> int:
    """Delete the rows of ``company_id`` whose columns equal ``match``."""
    cols = tuple(sorted(match))
    q = _query(
        "delete_where",
        table,
        cols,
        lambda: sa.delete(table).where(
            table.c.company_id == sa.bindparam("company_id"),
            *[table.c[c] == _param(table, c) for c in cols],
        ),
    )
    return await tx.execute(q, company_id=company_id, **match)


@dataclass(frozen=True, slots=True)
class Join:
    """A join table between two kinds of rows: ``left`` and ``right`` name its key columns."""

    table: sa.Table
    left: str
    right: str


def _link_insert(join: Join) -> Query:
    table, left, right = join.table, join.left, join.right
    return _query(
        "link_insert",
        table,
        (left, right),
        lambda: sa.insert(table).values(
            company_id=sa.bindparam("company_id"),
            **{left: sa.bindparam("l"), right: sa.bindparam("r")},
        ),
    )


async def link_new(
    tx: Connection, join: Join, *, company_id: int, left_id: int, right_id: int
) -> None:
    """Add one join row for a ``left_id`` created in this transaction (so none can exist)."""
    await tx.execute(_link_insert(join), company_id=company_id, l=left_id, r=right_id)


async def link(
    tx: Connection, join: Join, *, company_id: int, left_id: int, right_ids: list[int]
) -> None:
    """Add join rows (``left_id``, each of ``right_ids``) that are not there yet."""
    table, left, right = join.table, join.left, join.right
    exists = _query(
        "link_existing",
        table,
        (left, right),
        lambda: sa.select(table.c[right]).where(
            table.c[left] == sa.bindparam("l"), in_list(table.c[right], "rs")
        ),
    )
    have = {r[right] for r in await tx.fetch_all(exists, l=left_id, rs=right_ids)}
    insert = _link_insert(join)
    for rid in dict.fromkeys(right_ids):
        if rid not in have:
            await tx.execute(insert, company_id=company_id, l=left_id, r=rid)


async def unlink(
    tx: Connection, join: Join, *, company_id: int, left_id: int, right_ids: list[int]
) -> int:
    """Remove join rows (``left_id``, each of ``right_ids``)."""
    table, left, right = join.table, join.left, join.right
    q = _query(
        "unlink",
        table,
        (left, right),
        lambda: sa.delete(table).where(
            table.c.company_id == sa.bindparam("company_id"),
            table.c[left] == sa.bindparam("l"),
            in_list(table.c[right], "rs"),
        ),
    )
    return await tx.execute(q, company_id=company_id, l=left_id, rs=right_ids)
