"""Keyset pages sorted by creation or update, with ``updated_at`` bounds (contacts, accounts).

A page continues after the (sort value, id) of the last row shown. Lists sorted by
``updated_at`` are what incremental syncs read (``sort_by=updated_at&q[updated_after]=…``), so
there the ``q[updated_after]`` bound is folded into the keyset in Python: the statement has one
lower bound on the indexed column, and SQLite cannot pick the wrong one and rescan what earlier
pages read. With another sort the bounds are plain filters.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement

SORTS = ("id", "created_at", "updated_at")
_MAX = 2**63 - 1
_MIN = -(2**62)


@dataclass(frozen=True, slots=True)
class Window:
    """What a sorted list asks for: the sort column, order, the key to continue after and the
    exclusive ``updated_at`` bounds (milliseconds)."""

    sort: str = "id"
    descending: bool = False
    after: tuple[int, int] | None = None
    updated_after: int | None = None
    updated_before: int | None = None

    def params(self) -> dict[str, Any]:
        """The bound parameters of ``where(table, ...)`` for this window."""
        desc = self.descending
        if self.after is not None:
            value, key = self.after
        else:
            value, key = (_MAX, _MAX) if desc else (_MIN, 0)
        ua = self.updated_after if self.updated_after is not None else _MIN
        ub = self.updated_before if self.updated_before is not None else _MAX
        if self.sort == "updated_at":
            # ``updated_at > ua`` is the key (ua, max) ascending; ``< ub`` is (ub, 0) descending.
            if desc:
                value, key = min((value, key), (ub, 0))
            else:
                value, key = max((value, key), (ua, _MAX))
        return {"after_v": value, "after_id": key, "ua": ua, "ub": ub}


def where(table: sa.Table, sort: str, descending: bool) -> ColumnElement[bool]:
    """The keyset and ``updated_at`` conditions of a page of ``table`` (see ``Window``)."""
    value: sa.BindParameter[int] = sa.bindparam("after_v", type_=sa.BigInteger)
    key: sa.BindParameter[int] = sa.bindparam("after_id", type_=sa.BigInteger)
    ua: sa.BindParameter[int] = sa.bindparam("ua", type_=sa.BigInteger)
    ub: sa.BindParameter[int] = sa.bindparam("ub", type_=sa.BigInteger)
    updated = table.c.updated_at
    if sort == "id":
        keyset = table.c.id < key if descending else table.c.id > key
        return sa.and_(keyset, updated > ua, updated < ub)
    col = table.c[sort]
    if descending:
        keyset = sa.and_(col <= value, sa.or_(col < value, sa.and_(col == value, table.c.id < key)))
    else:
        keyset = sa.and_(col >= value, sa.or_(col > value, sa.and_(col == value, table.c.id > key)))
    if sort == "updated_at":
        return sa.and_(keyset, updated > ua if descending else updated < ub)
    return sa.and_(keyset, updated > ua, updated < ub)


def order(table: sa.Table, sort: str, descending: bool) -> list[Any]:
    cols = [table.c.id] if sort == "id" else [table.c[sort], table.c.id]
    return [c.desc() for c in cols] if descending else cols


def next_key(row: Any, sort: str) -> list[int]:
    """The page token's key after ``row``: (sort value, id)."""
    return [getattr(row, sort), row.id]
