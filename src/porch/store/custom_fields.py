"""Custom field definitions, and the value maps of the rows that carry custom fields."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson
import sqlalchemy as sa

from porch.store import crud
from porch.store.db import Connection, Query, Reader, Row
from porch.store.tables import accounts, contacts, custom_fields, inboxes, links, teammates

t = custom_fields

OBJECT_TYPES = ("contact", "conversation", "account", "inbox", "teammate", "link")
TYPES = ("string", "boolean", "datetime", "number", "teammate", "inbox", "enum")

# The tables whose ``custom_fields`` column holds values keyed by display name, per object
# type (a rename or a deletion rewrites these rows' maps).
HOLDERS: dict[str, sa.Table] = {
    "teammate": teammates,
    "inbox": inboxes,
    "link": links,
    "contact": contacts,
    "account": accounts,
}


@dataclass(frozen=True, slots=True)
class CustomField:
    id: int
    company_id: int
    object_type: str
    name: str
    description: str
    type: str
    values: list[dict[str, Any]] | None
    created_at: int

    @classmethod
    def from_row(cls, r: Row) -> CustomField:
        return cls(
            r["id"],
            r["company_id"],
            r["object_type"],
            r["name"],
            r["description"],
            r["type"],
            orjson.loads(r["enum_values"]) if r["enum_values"] else None,
            r["created_at"],
        )


_cid = t.c.company_id == sa.bindparam("company_id")
_OF_TYPE = Query(
    sa.select(t).where(_cid, t.c.object_type == sa.bindparam("object_type")).order_by(t.c.id)
)
_BY_KEY = Query(sa.select(t).where(_cid, t.c.id == sa.bindparam("key")))


def _holder_query(table: sa.Table) -> Query:
    # Rows with no value at all ('{}') cannot hold the field; skip them in SQL.
    return Query(
        sa.select(table.c.id, table.c.custom_fields)
        .where(table.c.company_id == sa.bindparam("company_id"), table.c.custom_fields != "{}")
        .order_by(table.c.id)
    )


_HOLDING = {object_type: _holder_query(table) for object_type, table in HOLDERS.items()}


async def of_type(conn: Reader, *, company_id: int, object_type: str) -> list[CustomField]:
    rows = await conn.fetch_all(_OF_TYPE, company_id=company_id, object_type=object_type)
    return [CustomField.from_row(r) for r in rows]


async def get(conn: Reader, *, company_id: int, key: int) -> CustomField | None:
    row = await conn.fetch_one(_BY_KEY, company_id=company_id, key=key)
    return CustomField.from_row(row) if row else None


async def value_maps(
    conn: Reader, *, company_id: int, object_type: str
) -> list[tuple[int, dict[str, Any]]]:
    """(key, values) of every row of ``object_type`` that holds at least one value."""
    query = _HOLDING.get(object_type)
    if query is None:
        return []
    rows = await conn.fetch_all(query, company_id=company_id)
    return [(int(r["id"]), orjson.loads(r["custom_fields"])) for r in rows]


async def set_value_map(
    tx: Connection, *, company_id: int, object_type: str, key: int, values: dict[str, Any]
) -> None:
    """Replace the stored values of one row of ``object_type``."""
    await crud.update(
        tx,
        HOLDERS[object_type],
        company_id=company_id,
        key=key,
        custom_fields=orjson.dumps(values).decode(),
    )
