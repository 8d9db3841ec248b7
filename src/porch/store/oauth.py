"""OAuth rows: applications as OAuth clients, grants, codes, tokens, teammates' passwords.

Codes and tokens are found by their SHA-256 only. Spending a code or a refresh token is a
conditional update (``used_at IS NULL`` / ``rotated_at IS NULL``) whose row count says whether
this request was the one that spent it, so two concurrent exchanges never both succeed.
"""

from __future__ import annotations

from dataclasses import dataclass

import orjson
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql as pg
from sqlalchemy.dialects import sqlite as sq

from porch.store.db import Connection, Query, Reader, Row
from porch.store.tables import (
    applications,
    companies,
    oauth_codes,
    oauth_grants,
    oauth_tokens,
    teammate_passwords,
    teammates,
)

a, g, c, t, p = applications, oauth_grants, oauth_codes, oauth_tokens, teammate_passwords


@dataclass(frozen=True, slots=True)
class App:
    """An application as an OAuth client."""

    id: int
    company_id: int
    uid: str
    name: str
    secret: str
    redirect_uris: list[str]
    enabled: bool

    @classmethod
    def from_row(cls, r: Row) -> App:
        return cls(
            r["id"],
            r["company_id"],
            r["uid"],
            r["name"],
            r["secret"],
            list(orjson.loads(r["redirect_uris"])),
            r["state"] == "enabled",
        )


@dataclass(frozen=True, slots=True)
class Grant:
    id: int
    company_id: int
    application_id: int
    teammate_id: int
    created_at: int
    revoked_at: int | None

    @classmethod
    def from_row(cls, r: Row) -> Grant:
        return cls(
            r["id"],
            r["company_id"],
            r["application_id"],
            r["teammate_id"],
            r["created_at"],
            r["revoked_at"],
        )


@dataclass(frozen=True, slots=True)
class Code:
    """An authorization code with what it is bound to."""

    id: int
    company_id: int
    grant_id: int
    application_id: int
    teammate_id: int
    redirect_uri: str
    expires_at: int
    used_at: int | None
    grant_revoked_at: int | None


@dataclass(frozen=True, slots=True)
class Token:
    """An access or refresh token with its grant's state."""

    id: int
    company_id: int
    grant_id: int
    application_id: int
    teammate_id: int
    kind: str
    expires_at: int
    rotated_at: int | None
    revoked_at: int | None
    grant_revoked_at: int | None


_APP_BY_UID = Query(sa.select(a).where(a.c.uid == sa.bindparam("uid")))
_APP_OF_COMPANY = Query(
    sa.select(a).where(a.c.company_id == sa.bindparam("company_id"), a.c.uid == sa.bindparam("uid"))
)
_CODE = Query(
    sa.select(
        c.c.id,
        c.c.company_id,
        c.c.grant_id,
        g.c.application_id,
        g.c.teammate_id,
        c.c.redirect_uri,
        c.c.expires_at,
        c.c.used_at,
        g.c.revoked_at.label("grant_revoked_at"),
    )
    .join(g, g.c.id == c.c.grant_id)
    .where(c.c.code_hash == sa.bindparam("h"))
)
_TOKEN = Query(
    sa.select(
        t.c.id,
        t.c.company_id,
        t.c.grant_id,
        g.c.application_id,
        g.c.teammate_id,
        t.c.kind,
        t.c.expires_at,
        t.c.rotated_at,
        t.c.revoked_at,
        g.c.revoked_at.label("grant_revoked_at"),
    )
    .join(g, g.c.id == t.c.grant_id)
    .where(t.c.token_hash == sa.bindparam("h"))
)
# What the API needs to authenticate a request made with an access token: live token, live
# grant, enabled application, and the company's burst setting.
_ACCESS = Query(
    sa.select(
        t.c.grant_id,
        t.c.company_id,
        g.c.application_id,
        t.c.expires_at,
        companies.c.rate_limit_burst,
    )
    .join(g, g.c.id == t.c.grant_id)
    .join(a, a.c.id == g.c.application_id)
    .join(companies, companies.c.id == t.c.company_id)
    .where(
        t.c.token_hash == sa.bindparam("h"),
        t.c.kind == "access",
        t.c.revoked_at.is_(None),
        t.c.expires_at > sa.bindparam("now"),
        g.c.revoked_at.is_(None),
        a.c.state == "enabled",
    )
)
_USE_CODE = Query(
    sa.update(c)
    .where(c.c.id == sa.bindparam("key"), c.c.used_at.is_(None))
    .values(used_at=sa.bindparam("now"))
)
_ROTATE = Query(
    sa.update(t)
    .where(
        t.c.id == sa.bindparam("key"),
        t.c.kind == "refresh",
        t.c.rotated_at.is_(None),
        t.c.revoked_at.is_(None),
    )
    .values(rotated_at=sa.bindparam("now"))
)
_REVOKE_TOKEN = Query(
    sa.update(t)
    .where(t.c.id == sa.bindparam("key"), t.c.revoked_at.is_(None))
    .values(revoked_at=sa.bindparam("now"))
)
_REVOKE_GRANT = Query(
    sa.update(g)
    .where(
        g.c.company_id == sa.bindparam("company_id"),
        g.c.id == sa.bindparam("key"),
        g.c.revoked_at.is_(None),
    )
    .values(revoked_at=sa.bindparam("now"))
)
_REVOKE_GRANT_TOKENS = Query(
    sa.update(t)
    .where(t.c.grant_id == sa.bindparam("key"), t.c.revoked_at.is_(None))
    .values(revoked_at=sa.bindparam("now"))
)
_GRANTS_OF_APP = Query(
    sa.select(g)
    .where(
        g.c.company_id == sa.bindparam("company_id"),
        g.c.application_id == sa.bindparam("application_id"),
    )
    .order_by(g.c.id)
)
_GRANT = Query(
    sa.select(g).where(
        g.c.company_id == sa.bindparam("company_id"),
        g.c.application_id == sa.bindparam("application_id"),
        g.c.id == sa.bindparam("key"),
    )
)
_PASSWORD = Query(
    sa.select(p.c.password_hash).where(
        p.c.company_id == sa.bindparam("company_id"), p.c.teammate_id == sa.bindparam("key")
    )
)
_PASSWORD_VALUES: dict[str, sa.BindParameter[object]] = {
    "company_id": sa.bindparam("company_id"),
    "teammate_id": sa.bindparam("key"),
    "password_hash": sa.bindparam("password_hash"),
    "updated_at": sa.bindparam("now"),
}
_SET_PASSWORD = Query(
    sq.insert(p)
    .values(**_PASSWORD_VALUES)
    .on_conflict_do_update(
        index_elements=[p.c.teammate_id],
        set_={
            "password_hash": sq.insert(p).excluded.password_hash,
            "updated_at": sa.bindparam("now"),
        },
    ),
    postgresql=pg.insert(p)
    .values(**_PASSWORD_VALUES)
    .on_conflict_do_update(
        index_elements=[p.c.teammate_id],
        set_={
            "password_hash": pg.insert(p).excluded.password_hash,
            "updated_at": sa.bindparam("now"),
        },
    ),
)
_SIGN_IN = Query(
    sa.select(teammates.c.id, teammates.c.is_blocked, p.c.password_hash)
    .select_from(teammates)
    .join(p, p.c.teammate_id == teammates.c.id, isouter=True)
    .where(
        teammates.c.company_id == sa.bindparam("company_id"),
        teammates.c.email == sa.bindparam("email"),
    )
)


async def app_by_uid(conn: Reader, *, uid: str) -> App | None:
    """The application whose client_id is ``uid``, in any company (OAuth names no company)."""
    row = await conn.fetch_one(_APP_BY_UID, uid=uid)
    return App.from_row(row) if row else None


async def app_of_company(conn: Reader, *, company_id: int, uid: str) -> App | None:
    row = await conn.fetch_one(_APP_OF_COMPANY, company_id=company_id, uid=uid)
    return App.from_row(row) if row else None


async def code_by_hash(conn: Reader, *, code_hash: str) -> Code | None:
    row = await conn.fetch_one(_CODE, h=code_hash)
    return Code(**row) if row else None


async def token_by_hash(conn: Reader, *, token_hash: str) -> Token | None:
    row = await conn.fetch_one(_TOKEN, h=token_hash)
    return Token(**row) if row else None


async def live_access(conn: Reader, *, token_hash: str, now: int) -> Row | None:
    """grant_id, company_id, application_id, expires_at, rate_limit_burst of a usable
    access token."""
    return await conn.fetch_one(_ACCESS, h=token_hash, now=now)


async def use_code(tx: Connection, *, key: int, now: int) -> bool:
    """Spend a code; False if another request spent it first."""
    return await tx.execute(_USE_CODE, key=key, now=now) == 1


async def rotate_refresh(tx: Connection, *, key: int, now: int) -> bool:
    """Spend a refresh token; False if it was spent or revoked already."""
    return await tx.execute(_ROTATE, key=key, now=now) == 1


async def revoke_token(tx: Connection, *, key: int, now: int) -> None:
    await tx.execute(_REVOKE_TOKEN, key=key, now=now)


async def revoke_grant(tx: Connection, *, company_id: int, key: int, now: int) -> bool:
    """Revoke a grant and every token issued under it; False if it was revoked already."""
    changed = await tx.execute(_REVOKE_GRANT, company_id=company_id, key=key, now=now)
    await tx.execute(_REVOKE_GRANT_TOKENS, key=key, now=now)
    return changed == 1


async def grants_of(conn: Reader, *, company_id: int, application_id: int) -> list[Grant]:
    rows = await conn.fetch_all(
        _GRANTS_OF_APP, company_id=company_id, application_id=application_id
    )
    return [Grant.from_row(r) for r in rows]


async def grant(conn: Reader, *, company_id: int, application_id: int, key: int) -> Grant | None:
    row = await conn.fetch_one(
        _GRANT, company_id=company_id, application_id=application_id, key=key
    )
    return Grant.from_row(row) if row else None


async def password_hash(conn: Reader, *, company_id: int, teammate_id: int) -> str | None:
    row = await conn.fetch_one(_PASSWORD, company_id=company_id, key=teammate_id)
    return str(row["password_hash"]) if row else None


async def set_password_hash(
    tx: Connection, *, company_id: int, teammate_id: int, password_hash: str, now: int
) -> None:
    await tx.execute(
        _SET_PASSWORD, company_id=company_id, key=teammate_id, password_hash=password_hash, now=now
    )


async def sign_in_row(conn: Reader, *, company_id: int, email: str) -> Row | None:
    """The teammate of ``email`` (id, is_blocked) with its password hash (None: no password)."""
    return await conn.fetch_one(_SIGN_IN, company_id=company_id, email=email)
