"""Account rows, their domains, and the queries that read them."""

from __future__ import annotations

from collections import defaultdict
from typing import NamedTuple

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql as pg_dialect
from sqlalchemy.dialects import sqlite as sqlite_dialect

from porch.store import sorted_pages
from porch.store.db import Connection, Query, Reader, Row, in_list, of_company
from porch.store.sorted_pages import Window
from porch.store.tables import account_domains, accounts

t = accounts
d = account_domains


class Account(NamedTuple):
    """An account row (fields are the table's columns, in order)."""

    id: int
    company_id: int
    name: str
    description: str | None
    logo_url: str | None
    external_id: str | None
    custom_fields: str
    created_at: int
    updated_at: int

    @classmethod
    def from_row(cls, r: Row) -> Account:
        return cls(*r)  # type: ignore[arg-type]  # a row is a sequence of the columns


assert list(Account._fields) == [c.name for c in t.c], "Account mirrors the accounts table"

_cid = t.c.company_id == sa.bindparam("company_id")
_BY_KEY = Query(sa.select(t).where(_cid, t.c.id == sa.bindparam("key")))
_BY_EXTERNAL_ID = Query(sa.select(t.c.id).where(_cid, t.c.external_id == sa.bindparam("value")))
_BY_DOMAIN = Query(
    sa.select(d.c.account_id).where(
        d.c.company_id == sa.bindparam("company_id"), d.c.domain == sa.bindparam("value")
    )
)
_PAGES = {
    (sort, desc): Query(
        sa.select(t)
        .where(_cid, sorted_pages.where(t, sort, desc))
        .order_by(*sorted_pages.order(t, sort, desc))
        .limit(sa.bindparam("lim"))
    )
    for sort in sorted_pages.SORTS
    for desc in (False, True)
}
_DOMAINS_OF = Query(
    sa.select(d.c.account_id, d.c.domain)
    .where(of_company(d.c.company_id), in_list(d.c.account_id, "keys"))
    .order_by(d.c.account_id, d.c.domain)
)
_DELETE_DOMAINS = Query(
    sa.delete(d).where(
        d.c.company_id == sa.bindparam("company_id"), d.c.account_id == sa.bindparam("key")
    )
)
_DOMAIN_VALUES: dict[str, sa.BindParameter[int | str]] = {
    "company_id": sa.bindparam("company_id"),
    "account_id": sa.bindparam("account_id"),
    "domain": sa.bindparam("domain"),
}
_ADD_DOMAIN = Query(
    sqlite_dialect.insert(d)
    .values(_DOMAIN_VALUES)
    .on_conflict_do_nothing(index_elements=["company_id", "domain"]),
    postgresql=pg_dialect.insert(d)
    .values(_DOMAIN_VALUES)
    .on_conflict_do_nothing(index_elements=["company_id", "domain"]),
)


async def get(conn: Reader, *, company_id: int, key: int) -> Account | None:
    row = await conn.fetch_one(_BY_KEY, company_id=company_id, key=key)
    return Account.from_row(row) if row else None


async def key_by_external_id(conn: Reader, *, company_id: int, value: str) -> int | None:
    row = await conn.fetch_one(_BY_EXTERNAL_ID, company_id=company_id, value=value)
    return int(row["id"]) if row else None


async def key_by_domain(conn: Reader, *, company_id: int, value: str) -> int | None:
    row = await conn.fetch_one(_BY_DOMAIN, company_id=company_id, value=value)
    return int(row["account_id"]) if row else None


async def page(conn: Reader, *, company_id: int, window: Window, limit: int) -> list[Account]:
    rows = await conn.fetch_all(
        _PAGES[(window.sort, window.descending)],
        company_id=company_id,
        lim=limit,
        **window.params(),
    )
    return [Account.from_row(r) for r in rows]


async def domains_of(conn: Reader, *, company_id: int, keys: list[int]) -> dict[int, list[str]]:
    rows = await conn.fetch_all(_DOMAINS_OF, company_id=company_id, keys=keys)
    out: dict[int, list[str]] = defaultdict(list)
    for row in rows:
        out[row["account_id"]].append(row["domain"])
    return out


async def add_domain(tx: Connection, *, company_id: int, account_id: int, domain: str) -> bool:
    """Give the account this domain; False if another account of the company holds it."""
    added = await tx.execute(
        _ADD_DOMAIN, company_id=company_id, account_id=account_id, domain=domain
    )
    return added == 1


async def delete_domains(tx: Connection, *, company_id: int, key: int) -> None:
    await tx.execute(_DELETE_DOMAINS, company_id=company_id, key=key)
