"""Custom field definitions."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson
import sqlalchemy as sa

from porch.store.db import Query, Reader, Row
from porch.store.tables import custom_fields

t = custom_fields

OBJECT_TYPES = ("contact", "conversation", "account", "inbox", "teammate", "link")
TYPES = ("string", "boolean", "datetime", "number", "teammate", "inbox", "enum")


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


async def of_type(conn: Reader, *, company_id: int, object_type: str) -> list[CustomField]:
    rows = await conn.fetch_all(_OF_TYPE, company_id=company_id, object_type=object_type)
    return [CustomField.from_row(r) for r in rows]


async def get(conn: Reader, *, company_id: int, key: int) -> CustomField | None:
    row = await conn.fetch_one(_BY_KEY, company_id=company_id, key=key)
    return CustomField.from_row(row) if row else None
