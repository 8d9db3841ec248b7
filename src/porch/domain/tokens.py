"""API tokens of a company: create (secret shown once), list, revoke."""

from __future__ import annotations

from dataclasses import dataclass

import orjson
import sqlalchemy as sa

from porch.domain.auth import hash_secret, new_secret
from porch.domain.errors import BadRequest, NotFound
from porch.domain.principal import PERMISSIONS
from porch.events import log
from porch.store import crud
from porch.store.db import Connection, Database, Query, Row
from porch.store.tables import api_tokens
from porch.timeutil import now_ms

ALL_NAMESPACES = ("shared", "private", "provisioning")
ALL_PERMISSIONS = PERMISSIONS

_LIST = Query(
    sa.select(api_tokens)
    .where(api_tokens.c.company_id == sa.bindparam("company_id"))
    .order_by(api_tokens.c.id)
)
_GET = Query(
    sa.select(api_tokens).where(
        api_tokens.c.company_id == sa.bindparam("company_id"),
        api_tokens.c.id == sa.bindparam("key"),
    )
)


@dataclass(frozen=True, slots=True)
class Token:
    id: int
    company_id: int
    name: str
    namespaces: list[str]
    permissions: list[str]
    created_at: int
    revoked_at: int | None


def check_scopes(namespaces: list[str], permissions: list[str]) -> None:
    """Raise BadRequest unless every namespace and permission is one Porch knows."""
    for ns in namespaces:
        if ns in ALL_NAMESPACES:
            continue
        head, _, tail = ns.partition(":")
        if head != "team" or not tail.isdigit():
            raise BadRequest(f"Unknown namespace {ns!r}")
    for perm in permissions:
        if perm not in PERMISSIONS:
            raise BadRequest(f"Unknown permission {perm!r}")
    if not namespaces or not permissions:
        raise BadRequest("A token needs at least one namespace and one permission")


async def insert_token(
    tx: Connection,
    *,
    company_id: int,
    name: str,
    namespaces: list[str],
    permissions: list[str],
    teammate_id: int | None = None,
) -> tuple[int, str]:
    """Store a new token on ``tx``; returns its key and the secret (never stored)."""
    check_scopes(namespaces, permissions)
    secret = new_secret()
    key = await crud.insert(
        tx,
        api_tokens,
        company_id=company_id,
        name=name,
        token_hash=hash_secret(secret),
        namespaces=orjson.dumps(namespaces).decode(),
        permissions=orjson.dumps(permissions).decode(),
        teammate_id=teammate_id,
        created_at=now_ms(),
    )
    return key, secret


async def do_create_token(
    db: Database,
    *,
    company_id: int,
    name: str,
    namespaces: list[str],
    permissions: list[str],
    source: log.Source = log.SYSTEM,
) -> tuple[Token, str]:
    """Issue a token; the secret is returned here and nowhere else."""
    async with db.transaction() as tx:
        key, secret = await insert_token(
            tx, company_id=company_id, name=name, namespaces=namespaces, permissions=permissions
        )
        await log.append(
            tx,
            company_id=company_id,
            type="token_created",
            source=source,
            target_type="token",
            target_id=key,
            data={"name": name, "namespaces": namespaces, "permissions": permissions},
        )
    token = await get_token(db, company_id=company_id, key=key)
    return token, secret


def _token(row: Row) -> Token:
    return Token(
        row["id"],
        row["company_id"],
        row["name"],
        orjson.loads(row["namespaces"]),
        orjson.loads(row["permissions"]),
        row["created_at"],
        row["revoked_at"],
    )


async def list_tokens(db: Database, *, company_id: int) -> list[Token]:
    return [_token(r) for r in await db.fetch_all(_LIST, company_id=company_id)]


async def get_token(db: Database, *, company_id: int, key: int) -> Token:
    row = await db.fetch_one(_GET, company_id=company_id, key=key)
    if row is None:
        raise NotFound("Unknown token")
    return _token(row)


async def do_revoke_token(
    db: Database, *, company_id: int, key: int, source: log.Source = log.SYSTEM
) -> None:
    """Revoke a token for good; revoking twice is harmless."""
    async with db.transaction() as tx:
        changed = await crud.update(
            tx, api_tokens, company_id=company_id, key=key, revoked_at=now_ms()
        )
        if not changed:
            raise NotFound("Unknown token")
        await log.append(
            tx,
            company_id=company_id,
            type="token_revoked",
            source=source,
            target_type="token",
            target_id=key,
        )
