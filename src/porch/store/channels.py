"""Channel rows and the queries that read them.

A channel belongs to one inbox and is visible exactly when its inbox is.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson
import sqlalchemy as sa

from porch.store.db import Query, Reader, Row, in_list
from porch.store.tables import channels, inboxes
from porch.store.visibility import owned_by_visible

t = channels


@dataclass(frozen=True, slots=True)
class Channel:
    id: int
    company_id: int
    inbox_id: int
    type: str
    name: str | None
    address: str | None
    send_as: str | None
    settings: dict[str, Any]
    is_valid: bool
    created_at: int
    # From the inbox: who owns the channel.
    team_id: int | None
    owner_teammate_id: int | None

    @classmethod
    def from_row(cls, r: Row) -> Channel:
        return cls(
            r["id"],
            r["company_id"],
            r["inbox_id"],
            r["type"],
            r["name"],
            r["address"],
            r["send_as"],
            orjson.loads(r["settings"]),
            bool(r["is_valid"]),
            r["created_at"],
            r["team_id"],
            r["owner_teammate_id"],
        )

    @property
    def is_private(self) -> bool:
        return self.owner_teammate_id is not None


_cid = t.c.company_id == sa.bindparam("company_id")
_base = sa.select(t, inboxes.c.team_id, inboxes.c.owner_teammate_id).join(
    inboxes, inboxes.c.id == t.c.inbox_id
)
_visible = owned_by_visible(inboxes)
_BY_KEY = Query(_base.where(_cid, t.c.id == sa.bindparam("key"), _visible))
_BY_ADDRESS = Query(_base.where(_cid, t.c.address == sa.bindparam("address"), _visible))
# Inbound mail: the email channels of every company with this address.
_EMAIL_BY_ADDRESS = Query(
    _base.where(t.c.address == sa.bindparam("address"), t.c.type == "smtp").order_by(t.c.id)
)
_ALL = Query(_base.where(_cid, _visible).order_by(t.c.id))
_OF_INBOX = Query(
    _base.where(_cid, t.c.inbox_id == sa.bindparam("inbox"), _visible).order_by(t.c.id)
)
_OF_INBOXES = Query(_base.where(_cid, in_list(t.c.inbox_id, "inboxes"), _visible).order_by(t.c.id))


async def get_visible(
    conn: Reader, *, company_id: int, key: int, vis: dict[str, object]
) -> Channel | None:
    row = await conn.fetch_one(_BY_KEY, company_id=company_id, key=key, **vis)
    return Channel.from_row(row) if row else None


async def by_address(
    conn: Reader, *, company_id: int, address: str, vis: dict[str, object]
) -> Channel | None:
    row = await conn.fetch_one(_BY_ADDRESS, company_id=company_id, address=address.lower(), **vis)
    return Channel.from_row(row) if row else None


async def email_by_address(conn: Reader, *, address: str) -> list[Channel]:
    """The email channels, of any company, whose address is ``address`` (inbound mail to it is
    for each of them)."""
    rows = await conn.fetch_all(_EMAIL_BY_ADDRESS, address=address.lower())
    return [Channel.from_row(r) for r in rows]


async def all_visible(conn: Reader, *, company_id: int, vis: dict[str, object]) -> list[Channel]:
    return [Channel.from_row(r) for r in await conn.fetch_all(_ALL, company_id=company_id, **vis)]


async def of_inbox(
    conn: Reader, *, company_id: int, inbox_id: int, vis: dict[str, object]
) -> list[Channel]:
    rows = await conn.fetch_all(_OF_INBOX, company_id=company_id, inbox=inbox_id, **vis)
    return [Channel.from_row(r) for r in rows]


async def of_inboxes(
    conn: Reader, *, company_id: int, inbox_ids: list[int], vis: dict[str, object]
) -> list[Channel]:
    rows = await conn.fetch_all(_OF_INBOXES, company_id=company_id, inboxes=inbox_ids, **vis)
    return [Channel.from_row(r) for r in rows]


_BY_KEY_ANY = Query(_base.where(_cid, t.c.id == sa.bindparam("key")))
_ADDRESS_TAKEN = Query(sa.select(t.c.id).where(_cid, t.c.address == sa.bindparam("address")))
_OF_TEAM = Query(
    _base.where(_cid, inboxes.c.team_id == sa.bindparam("team"), _visible).order_by(t.c.id)
)


async def get(conn: Reader, *, company_id: int, key: int) -> Channel | None:
    """The channel ``key`` whatever the caller sees (for re-reading a row just written)."""
    row = await conn.fetch_one(_BY_KEY_ANY, company_id=company_id, key=key)
    return Channel.from_row(row) if row else None


async def address_taken(conn: Reader, *, company_id: int, address: str) -> bool:
    """Whether any channel of the company, visible or not, already has ``address``."""
    row = await conn.fetch_one(_ADDRESS_TAKEN, company_id=company_id, address=address.lower())
    return row is not None


async def of_team(
    conn: Reader, *, company_id: int, team_id: int, vis: dict[str, object]
) -> list[Channel]:
    """The channels of a team's inboxes."""
    rows = await conn.fetch_all(_OF_TEAM, company_id=company_id, team=team_id, **vis)
    return [Channel.from_row(r) for r in rows]
