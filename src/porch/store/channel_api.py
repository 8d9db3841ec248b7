"""Rows and queries of the Channel API: partner channels and their applications, JWT ids seen,
partner deliveries (authorization, delete, message_imported), calls and application message
templates."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NamedTuple

import orjson
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql as pg
from sqlalchemy.dialects import sqlite as sq

from porch.store.db import Connection, Query, Reader, Row
from porch.store.tables import (
    application_message_templates,
    applications,
    channel_calls,
    channel_jwt_ids,
    channels,
    companies,
    messages,
    partner_channels,
    partner_deliveries,
)

pc = partner_channels
apps = applications


@dataclass(frozen=True, slots=True)
class Partner:
    """A partner channel with what signs for it: its application's uid and secret."""

    channel_id: int
    company_id: int
    application_id: int
    application_uid: str
    secret: str
    base_url: str
    state: str
    status: str
    rate_limit_per_minute: int
    rate_limit_burst: bool

    @classmethod
    def from_row(cls, r: Row) -> Partner:
        return cls(
            r["channel_id"],
            r["company_id"],
            r["application_id"],
            r["uid"],
            r["secret"],
            r["base_url"],
            r["state"],
            r["status"],
            r["rate_limit_per_minute"],
            bool(r["rate_limit_burst"]),
        )


_partner = sa.select(
    pc.c.channel_id,
    pc.c.company_id,
    pc.c.application_id,
    pc.c.base_url,
    pc.c.state,
    pc.c.status,
    apps.c.uid,
    apps.c.secret,
    companies.c.rate_limit_per_minute,
    companies.c.rate_limit_burst,
).select_from(
    pc.join(apps, (apps.c.id == pc.c.application_id) & (apps.c.company_id == pc.c.company_id)).join(
        companies, companies.c.id == pc.c.company_id
    )
)
# The JWT check runs before the company is known (as an API token lookup does): by channel only.
_PARTNER_FOR_JWT = Query(_partner.where(pc.c.channel_id == sa.bindparam("channel_id")))
_PARTNER = Query(
    _partner.where(
        pc.c.company_id == sa.bindparam("company_id"),
        pc.c.channel_id == sa.bindparam("channel_id"),
    )
)
_APP_BY_UID = Query(
    sa.select(apps.c.id, apps.c.uid, apps.c.webhook_url, apps.c.state).where(
        apps.c.company_id == sa.bindparam("company_id"), apps.c.uid == sa.bindparam("uid")
    )
)


INSERT_PARTNER = Query(
    sa.insert(pc).values(
        {c.name: sa.bindparam(c.name) for c in pc.c}  # every column, bound by its name
    )
)
SET_STATUS = Query(
    sa.update(pc)
    .where(
        pc.c.company_id == sa.bindparam("company_id"),
        pc.c.channel_id == sa.bindparam("channel_id"),
    )
    .values(status=sa.bindparam("status"), updated_at=sa.bindparam("now"))
)
SET_STATE = Query(
    sa.update(pc)
    .where(
        pc.c.company_id == sa.bindparam("company_id"),
        pc.c.channel_id == sa.bindparam("channel_id"),
    )
    .values(state=sa.bindparam("state"), updated_at=sa.bindparam("now"))
)


async def partner_for_jwt(conn: Reader, *, channel_id: int) -> Partner | None:
    row = await conn.fetch_one(_PARTNER_FOR_JWT, channel_id=channel_id)
    return Partner.from_row(row) if row else None


async def partner(conn: Reader, *, company_id: int, channel_id: int) -> Partner | None:
    row = await conn.fetch_one(_PARTNER, company_id=company_id, channel_id=channel_id)
    return Partner.from_row(row) if row else None


_PARTNERS_OF_INBOX = Query(
    _partner.where(
        pc.c.company_id == sa.bindparam("company_id"),
        pc.c.state != "deleted",
        pc.c.channel_id.in_(
            sa.select(channels.c.id).where(
                channels.c.company_id == sa.bindparam("company_id"),
                channels.c.inbox_id == sa.bindparam("inbox_id"),
            )
        ),
    ).order_by(pc.c.channel_id)
)


async def partners_of_inbox(conn: Reader, *, company_id: int, inbox_id: int) -> list[Partner]:
    """The partner channels of an inbox that are not unlinked."""
    rows = await conn.fetch_all(_PARTNERS_OF_INBOX, company_id=company_id, inbox_id=inbox_id)
    return [Partner.from_row(r) for r in rows]


_THREAD_REFS = Query(
    sa.select(messages.c.thread_ref)
    .where(
        messages.c.company_id == sa.bindparam("company_id"),
        messages.c.conversation_id == sa.bindparam("conversation_id"),
        messages.c.thread_ref.is_not(None),
        messages.c.is_draft == sa.false(),
    )
    .order_by(messages.c.created_at, messages.c.id)
)


async def thread_refs_of(conn: Reader, *, company_id: int, conversation_id: int) -> list[str]:
    """The external conversation ids (``thread_ref``) of a conversation's messages, each once,
    in the order they first appeared."""
    rows = await conn.fetch_all(
        _THREAD_REFS, company_id=company_id, conversation_id=conversation_id
    )
    return list(dict.fromkeys(str(r["thread_ref"]) for r in rows))


async def application_by_uid(conn: Reader, *, company_id: int, uid: str) -> Row | None:
    return await conn.fetch_one(_APP_BY_UID, company_id=company_id, uid=uid)


# --- JWT ids --------------------------------------------------------------------------------

_jti_values: dict[str, Any] = {
    "application_id": sa.bindparam("application_id"),
    "jti": sa.bindparam("jti"),
    "company_id": sa.bindparam("company_id"),
    "expires_at": sa.bindparam("expires_at"),
}
_ADD_JTI = Query(
    sq.insert(channel_jwt_ids).values(**_jti_values).on_conflict_do_nothing(),
    postgresql=pg.insert(channel_jwt_ids).values(**_jti_values).on_conflict_do_nothing(),
)
_PRUNE_JTI = Query(
    sa.delete(channel_jwt_ids).where(
        channel_jwt_ids.c.application_id == sa.bindparam("application_id"),
        channel_jwt_ids.c.expires_at < sa.bindparam("now"),
    )
)


async def remember_jti(
    tx: Connection, *, application_id: int, company_id: int, jti: str, expires_at: int, now: int
) -> bool:
    """Record a JWT id until it expires; False if it was seen already (a replay)."""
    await tx.execute(_PRUNE_JTI, application_id=application_id, now=now)
    added = await tx.execute(
        _ADD_JTI,
        application_id=application_id,
        jti=jti,
        company_id=company_id,
        expires_at=expires_at,
    )
    return added == 1


# --- Partner deliveries ---------------------------------------------------------------------

d = partner_deliveries


class DeliveryRow(NamedTuple):
    """A partner_deliveries row (fields are the table's columns, in order)."""

    id: int
    company_id: int
    channel_id: int
    kind: str
    url: str
    body: str
    state: str
    attempts: int
    next_attempt_at: int
    last_error: str | None
    created_at: int
    updated_at: int


assert list(DeliveryRow._fields) == [c.name for c in d.c], "DeliveryRow mirrors its table"

_DUE = Query(
    sa.select(d)
    .where(d.c.state == "pending", d.c.next_attempt_at <= sa.bindparam("now"))
    .order_by(d.c.next_attempt_at, d.c.id)
    .limit(sa.bindparam("limit"))
)
_CLAIM = Query(
    sa.update(d)
    .where(
        d.c.id == sa.bindparam("key"),
        d.c.state == "pending",
        d.c.next_attempt_at == sa.bindparam("seen"),
    )
    .values(
        next_attempt_at=sa.bindparam("lease_until"),
        attempts=d.c.attempts + 1,
        updated_at=sa.bindparam("now"),
    )
)


async def due_deliveries(conn: Reader, *, now: int, limit: int) -> list[DeliveryRow]:
    rows = await conn.fetch_all(_DUE, now=now, limit=limit)
    return [DeliveryRow(*r) for r in rows]  # type: ignore[arg-type]  # a row is its columns


async def claim_delivery(tx: Connection, *, row: DeliveryRow, now: int, lease_until: int) -> bool:
    """Take ``row`` for one attempt until ``lease_until``; False if another process took it."""
    result = await tx.execute(
        _CLAIM, key=row.id, seen=row.next_attempt_at, lease_until=lease_until, now=now
    )
    return result == 1


# --- Messages by external id ------------------------------------------------------------------

m = messages
_BY_EXTERNAL = Query(
    sa.select(m)
    .where(
        m.c.company_id == sa.bindparam("company_id"),
        m.c.channel_id == sa.bindparam("channel_id"),
        m.c.external_id == sa.bindparam("external_id"),
    )
    .order_by(m.c.id)
    .limit(1)
)


async def message_by_external_id(
    conn: Reader, *, company_id: int, channel_id: int, external_id: str
) -> Row | None:
    """The channel's message with that external id (the partner's or the one it answered)."""
    return await conn.fetch_one(
        _BY_EXTERNAL, company_id=company_id, channel_id=channel_id, external_id=external_id
    )


# --- Calls ----------------------------------------------------------------------------------

c = channel_calls
_CALL = Query(
    sa.select(c).where(
        c.c.company_id == sa.bindparam("company_id"),
        c.c.channel_id == sa.bindparam("channel_id"),
        c.c.external_call_id == sa.bindparam("external_call_id"),
    )
)


async def call(
    conn: Reader, *, company_id: int, channel_id: int, external_call_id: str
) -> Row | None:
    return await conn.fetch_one(
        _CALL, company_id=company_id, channel_id=channel_id, external_call_id=external_call_id
    )


# --- Application message templates --------------------------------------------------------------

amt = application_message_templates
_TEMPLATE = Query(
    sa.select(amt).where(
        amt.c.company_id == sa.bindparam("company_id"),
        amt.c.channel_id == sa.bindparam("channel_id"),
        amt.c.external_id == sa.bindparam("external_id"),
    )
)


@dataclass(frozen=True, slots=True)
class Template:
    id: int
    external_id: str
    name: str
    blurb: str
    is_disabled: bool
    status_name: str
    variable_mappings: list[dict[str, Any]]
    template_preview: str

    @classmethod
    def from_row(cls, r: Row) -> Template:
        return cls(
            r["id"],
            r["external_id"],
            r["name"],
            r["blurb"],
            bool(r["is_disabled"]),
            r["status_name"],
            orjson.loads(r["variable_mappings"]),
            r["template_preview"],
        )


async def template(
    conn: Reader, *, company_id: int, channel_id: int, external_id: str
) -> Template | None:
    row = await conn.fetch_one(
        _TEMPLATE, company_id=company_id, channel_id=channel_id, external_id=external_id
    )
    return Template.from_row(row) if row else None
