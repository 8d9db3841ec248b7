"""Company secrets: random keys a company's features sign with, made on first use."""

from __future__ import annotations

import secrets as random

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql as pg
from sqlalchemy.dialects import sqlite as sq

from porch.store.db import Connection, Query, Reader
from porch.store.tables import company_secrets as t

_GET = Query(
    sa.select(t.c.secret).where(
        t.c.company_id == sa.bindparam("company_id"), t.c.purpose == sa.bindparam("purpose")
    )
)
_VALUES: dict[str, sa.BindParameter[object]] = {
    "company_id": sa.bindparam("company_id"),
    "purpose": sa.bindparam("purpose"),
    "secret": sa.bindparam("secret"),
    "created_at": sa.bindparam("now"),
}
_MAKE = Query(
    sq.insert(t).values(**_VALUES).on_conflict_do_nothing(),
    postgresql=pg.insert(t).values(**_VALUES).on_conflict_do_nothing(),
)


async def get(conn: Reader, *, company_id: int, purpose: str) -> bytes | None:
    row = await conn.fetch_one(_GET, company_id=company_id, purpose=purpose)
    return bytes.fromhex(row["secret"]) if row else None


async def get_or_make(tx: Connection, *, company_id: int, purpose: str, now: int) -> bytes:
    """The company's secret for ``purpose``, made (32 random bytes) if it has none yet; two
    writers making it at once end up with the same one."""
    found = await get(tx, company_id=company_id, purpose=purpose)
    if found is not None:
        return found
    await tx.execute(
        _MAKE, company_id=company_id, purpose=purpose, secret=random.token_hex(32), now=now
    )
    made = await get(tx, company_id=company_id, purpose=purpose)
    assert made is not None
    return made
