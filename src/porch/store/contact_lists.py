"""Contact lists (Front's contact groups are the same rows) and their members."""

from __future__ import annotations

from collections import defaultdict
from typing import NamedTuple

import sqlalchemy as sa

from porch.store.crud import Join
from porch.store.db import Connection, Query, Reader, Row, in_list, of_company
from porch.store.tables import contact_list_members, contact_lists, contacts
from porch.store.visibility import owned_by_visible

t = contact_lists
m = contact_list_members
MEMBERS = Join(m, "list_id", "contact_id")


class ContactList(NamedTuple):
    """A contact list row (fields are the table's columns, in order)."""

    id: int
    company_id: int
    name: str
    team_id: int | None
    owner_teammate_id: int | None
    created_at: int
    updated_at: int

    @classmethod
    def from_row(cls, r: Row) -> ContactList:
        return cls(*r)  # type: ignore[arg-type]  # a row is a sequence of the columns

    @property
    def is_private(self) -> bool:
        return self.owner_teammate_id is not None


assert list(ContactList._fields) == [c.name for c in t.c], "ContactList mirrors its table"

_cid = t.c.company_id == sa.bindparam("company_id")
_visible = owned_by_visible(t)
_BY_KEY = Query(sa.select(t).where(_cid, t.c.id == sa.bindparam("key"), _visible))
_SCOPES = {
    "all": sa.true(),
    "team": t.c.team_id == sa.bindparam("owner"),
    "teammate": t.c.owner_teammate_id == sa.bindparam("owner"),
}
_ALL = {
    scope: Query(sa.select(t).where(_cid, _visible, cond).order_by(t.c.id))
    for scope, cond in _SCOPES.items()
}
_BY_NAMES = Query(sa.select(t).where(_cid, _visible, in_list(t.c.name, "names")).order_by(t.c.id))
_NAME_TAKEN = Query(
    sa.select(t.c.id).where(
        _cid,
        t.c.name == sa.bindparam("name"),
        t.c.team_id.is_not_distinct_from(sa.bindparam("team_id", type_=sa.BigInteger)),
        t.c.owner_teammate_id.is_not_distinct_from(sa.bindparam("owner_id", type_=sa.BigInteger)),
    )
)
# The visible lists each contact of ``:keys`` is in.
_LISTS_OF = Query(
    sa.select(m.c.contact_id, t)
    .join(t, t.c.id == m.c.list_id)
    .where(of_company(m.c.company_id), in_list(m.c.contact_id, "keys"), _visible)
    .order_by(m.c.contact_id, t.c.id)
)
_LIST_KEYS_OF = Query(
    sa.select(m.c.list_id)
    .where(of_company(m.c.company_id), in_list(m.c.contact_id, "keys"))
    .distinct()
)
_TOUCH_MEMBERS = Query(
    sa.update(contacts)
    .where(
        of_company(contacts.c.company_id),
        contacts.c.id.in_(sa.select(m.c.contact_id).where(m.c.list_id == sa.bindparam("key"))),
    )
    .values(updated_at=sa.bindparam("now", type_=sa.BigInteger))
)
_DELETE_MEMBERS = Query(
    sa.delete(m).where(
        m.c.company_id == sa.bindparam("company_id"), m.c.list_id == sa.bindparam("key")
    )
)
_DELETE_LIST = Query(sa.delete(t).where(_cid, t.c.id == sa.bindparam("key")))
_MEMBERS_AMONG = Query(
    sa.select(m.c.contact_id).where(
        m.c.list_id == sa.bindparam("key"), in_list(m.c.contact_id, "keys")
    )
)


async def get_visible(
    conn: Reader, *, company_id: int, key: int, vis: dict[str, object]
) -> ContactList | None:
    row = await conn.fetch_one(_BY_KEY, company_id=company_id, key=key, **vis)
    return ContactList.from_row(row) if row else None


async def all_of(
    conn: Reader, *, company_id: int, vis: dict[str, object], scope: str, owner: int | None
) -> list[ContactList]:
    """Every visible list of ``scope`` (all, one team's, one teammate's), oldest first."""
    rows = await conn.fetch_all(_ALL[scope], company_id=company_id, owner=owner, **vis)
    return [ContactList.from_row(r) for r in rows]


async def by_names(
    conn: Reader, *, company_id: int, vis: dict[str, object], names: list[str]
) -> list[ContactList]:
    """The visible lists named one of ``names``, oldest first."""
    rows = await conn.fetch_all(_BY_NAMES, company_id=company_id, names=names, **vis)
    return [ContactList.from_row(r) for r in rows]


async def name_taken(
    conn: Reader, *, company_id: int, name: str, team_id: int | None, owner_id: int | None
) -> bool:
    row = await conn.fetch_one(
        _NAME_TAKEN, company_id=company_id, name=name, team_id=team_id, owner_id=owner_id
    )
    return row is not None


async def lists_of(
    conn: Reader, *, company_id: int, vis: dict[str, object], keys: list[int]
) -> dict[int, list[ContactList]]:
    """The visible lists of each contact of ``keys``."""
    rows = await conn.fetch_all(_LISTS_OF, company_id=company_id, keys=keys, **vis)
    out: dict[int, list[ContactList]] = defaultdict(list)
    for row in rows:
        out[row["contact_id"]].append(ContactList(*(row[f] for f in ContactList._fields)))
    return out


async def list_keys_of(conn: Reader, *, company_id: int, keys: list[int]) -> list[int]:
    """Every list (visible or not) any contact of ``keys`` is in."""
    rows = await conn.fetch_all(_LIST_KEYS_OF, company_id=company_id, keys=keys)
    return sorted(int(r["list_id"]) for r in rows)


async def members_among(conn: Reader, *, key: int, keys: list[int]) -> set[int]:
    """Which of the contacts ``keys`` are in the list ``key``."""
    rows = await conn.fetch_all(_MEMBERS_AMONG, key=key, keys=keys)
    return {int(r["contact_id"]) for r in rows}


async def delete(tx: Connection, *, company_id: int, key: int, now: int) -> None:
    """Delete a list: its members are updated (their ``lists`` change), then unlinked."""
    await tx.execute(_TOUCH_MEMBERS, company_id=company_id, key=key, now=now)
    await tx.execute(_DELETE_MEMBERS, company_id=company_id, key=key)
    await tx.execute(_DELETE_LIST, company_id=company_id, key=key)
