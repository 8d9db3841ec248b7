"""Contact rows and the handles (addresses, phone numbers, custom ids) that identify them."""

from __future__ import annotations

from typing import NamedTuple

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql as pg_dialect
from sqlalchemy.dialects import sqlite as sqlite_dialect

from porch.store.db import Connection, Query, Reader, Row
from porch.store.tables import contact_handles, contacts

t = contacts
h = contact_handles


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

    @classmethod
    def from_row(cls, r: Row) -> Contact:
        return cls(*r)  # type: ignore[arg-type]  # a row is a sequence of the columns


assert list(Contact._fields) == [c.name for c in t.c], "Contact mirrors the contacts table"

_BY_KEY = Query(
    sa.select(t).where(t.c.company_id == sa.bindparam("company_id"), t.c.id == sa.bindparam("key"))
)
_BY_HANDLE = Query(
    sa.select(h.c.contact_id).where(
        h.c.company_id == sa.bindparam("company_id"),
        h.c.source == sa.bindparam("source"),
        h.c.handle == sa.bindparam("handle"),
    )
)


async def get(conn: Reader, *, company_id: int, key: int) -> Contact | None:
    row = await conn.fetch_one(_BY_KEY, company_id=company_id, key=key)
    return Contact.from_row(row) if row else None


async def key_by_handle(conn: Reader, *, company_id: int, source: str, handle: str) -> int | None:
    """The key of the contact holding the (already normalised) handle, if any."""
    row = await conn.fetch_one(_BY_HANDLE, company_id=company_id, source=source, handle=handle)
    return int(row["contact_id"]) if row else None


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
