"""OAuth grants of applications: what a consent, a code exchange, a refresh or a revocation
writes, each in one transaction with its event.

The protocol checks (client authentication, redirect URIs, code binding) are authlib's, run by
``porch.api.oauth_server``; the functions here persist their outcome and re-check, in the
writing transaction, what a concurrent request could have changed: a code or refresh token is
spent by exactly one request. Tokens are stored as SHA-256 only, as API tokens are.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from porch.domain.auth import OAUTH_ACCESS_PREFIX, hash_secret
from porch.domain.errors import Forbidden, NotFound, PorchError
from porch.domain.principal import Principal
from porch.events import log
from porch.store import crud
from porch.store import oauth as store
from porch.store.db import Connection, Database, Reader
from porch.store.tables import oauth_codes, oauth_grants, oauth_tokens
from porch.timeutil import now_ms

ACCESS_PREFIX = OAUTH_ACCESS_PREFIX
REFRESH_PREFIX = "porchor_"
CODE_SECONDS = 60
ACCESS_SECONDS = 3600
REFRESH_SECONDS = 183 * 24 * 3600


class GrantSpent(PorchError):
    """The code or refresh token was spent or revoked by another request (OAuth's
    ``invalid_grant``)."""

    status = 400
    title = "Bad request"


@dataclass(frozen=True, slots=True)
class Issued:
    """A token pair as the token endpoint answers it."""

    access_token: str
    refresh_token: str
    expires_at: int


def new_access_token() -> str:
    return ACCESS_PREFIX + secrets.token_urlsafe(32)


def new_refresh_token() -> str:
    return REFRESH_PREFIX + secrets.token_urlsafe(32)


def app_source(grant_id: int) -> log.Source:
    """The source of what an app does: ``oauth_client`` and minus its grant's key (see
    ``porch.domain.auth``: OAuth callers carry ``-grant`` as their token key)."""
    return log.Source("oauth_client", -grant_id)


async def access_application(conn: Reader, *, principal: Principal, uid: str) -> store.App:
    """The company's application with this uid, or NotFound."""
    app = await store.app_of_company(conn, company_id=principal.company_id, uid=uid)
    if app is None:
        raise NotFound(f"Unknown application {uid!r}")
    return app


async def do_issue_code(
    db: Database, *, app: store.App, teammate_id: int, code: str, redirect_uri: str
) -> int:
    """An admin approved ``app``: a new grant and its authorization code. Returns the grant."""
    now = now_ms()
    async with db.transaction() as tx:
        grant_id = await crud.insert(
            tx,
            oauth_grants,
            company_id=app.company_id,
            application_id=app.id,
            teammate_id=teammate_id,
            created_at=now,
            revoked_at=None,
        )
        await crud.insert(
            tx,
            oauth_codes,
            company_id=app.company_id,
            grant_id=grant_id,
            code_hash=hash_secret(code),
            redirect_uri=redirect_uri,
            expires_at=now + CODE_SECONDS * 1000,
            used_at=None,
        )
        await log.append(
            tx,
            company_id=app.company_id,
            type="oauth_authorized",
            source=log.Source("teammate", teammate_id),
            target_type="application",
            target_id=app.id,
            data={"application_uid": app.uid, "grant_id": grant_id},
        )
    return grant_id


async def _insert_pair(
    tx: Connection, *, company_id: int, grant_id: int, access: str, refresh: str, now: int
) -> int:
    expires_at = now + ACCESS_SECONDS * 1000
    for kind, secret, until in (
        ("access", access, expires_at),
        ("refresh", refresh, now + REFRESH_SECONDS * 1000),
    ):
        await crud.insert(
            tx,
            oauth_tokens,
            company_id=company_id,
            grant_id=grant_id,
            kind=kind,
            token_hash=hash_secret(secret),
            created_at=now,
            expires_at=until,
            rotated_at=None,
            revoked_at=None,
        )
    return expires_at


async def do_exchange_code(db: Database, *, code: store.Code, access: str, refresh: str) -> Issued:
    """Spend the code and store the first token pair of its grant."""
    now = now_ms()
    async with db.transaction() as tx:
        if not await store.use_code(tx, key=code.id, now=now):
            raise GrantSpent("The authorization code was used already")
        expires_at = await _insert_pair(
            tx,
            company_id=code.company_id,
            grant_id=code.grant_id,
            access=access,
            refresh=refresh,
            now=now,
        )
        await log.append(
            tx,
            company_id=code.company_id,
            type="oauth_token_issued",
            source=app_source(code.grant_id),
            target_type="application",
            target_id=code.application_id,
            data={"grant_type": "authorization_code"},
        )
    return Issued(access, refresh, expires_at)


async def do_refresh(db: Database, *, token: store.Token, access: str, refresh: str) -> Issued:
    """Rotate a refresh token: the old one is spent, a new pair is stored."""
    now = now_ms()
    async with db.transaction() as tx:
        if not await store.rotate_refresh(tx, key=token.id, now=now):
            raise GrantSpent("The refresh token was used already")
        expires_at = await _insert_pair(
            tx,
            company_id=token.company_id,
            grant_id=token.grant_id,
            access=access,
            refresh=refresh,
            now=now,
        )
        await log.append(
            tx,
            company_id=token.company_id,
            type="oauth_token_issued",
            source=app_source(token.grant_id),
            target_type="application",
            target_id=token.application_id,
            data={"grant_type": "refresh_token"},
        )
    return Issued(access, refresh, expires_at)


async def do_revoke_grant_for_reuse(
    db: Database, *, company_id: int, grant_id: int, application_id: int, what: str
) -> None:
    """A spent code or rotated refresh token came back: someone else may hold it, so every
    token of its grant stops working (RFC 6749 §4.1.2, §10.4)."""
    async with db.transaction() as tx:
        if await store.revoke_grant(tx, company_id=company_id, key=grant_id, now=now_ms()):
            await log.append(
                tx,
                company_id=company_id,
                type="oauth_grant_revoked",
                source=app_source(grant_id),
                target_type="application",
                target_id=application_id,
                data={"grant_id": grant_id, "reason": f"{what} reused"},
            )


async def do_revoke_token(db: Database, *, token: store.Token) -> None:
    """RFC 7009 revocation: an access token alone; a refresh token with its whole grant."""
    async with db.transaction() as tx:
        if token.kind == "refresh":
            await store.revoke_grant(
                tx, company_id=token.company_id, key=token.grant_id, now=now_ms()
            )
        else:
            await store.revoke_token(tx, key=token.id, now=now_ms())
        await log.append(
            tx,
            company_id=token.company_id,
            type="oauth_token_revoked",
            source=app_source(token.grant_id),
            target_type="application",
            target_id=token.application_id,
            data={"grant_id": token.grant_id, "kind": token.kind},
        )


async def list_grants(conn: Reader, *, principal: Principal, app: store.App) -> list[store.Grant]:
    principal.require_provisioning()
    return await store.grants_of(conn, company_id=principal.company_id, application_id=app.id)


async def do_revoke_grant(
    db: Database, *, principal: Principal, app: store.App, grant_id: int
) -> None:
    """An administrator ends an app's grant: its tokens stop working (revoking twice is
    harmless)."""
    principal.require_provisioning()
    async with db.transaction() as tx:
        found = await store.grant(
            tx, company_id=principal.company_id, application_id=app.id, key=grant_id
        )
        if found is None:
            raise NotFound("Unknown grant")
        if await store.revoke_grant(
            tx, company_id=principal.company_id, key=grant_id, now=now_ms()
        ):
            await log.append(
                tx,
                company_id=principal.company_id,
                type="oauth_grant_revoked",
                source=log.source_of(principal),
                target_type="application",
                target_id=app.id,
                data={"grant_id": grant_id, "reason": "revoked by an administrator"},
            )


def require_not_oauth(principal: Principal, what: str) -> None:
    """Raise Forbidden for OAuth callers (Front keeps some features to API tokens)."""
    if principal.bucket.startswith("oauth"):
        raise Forbidden(f"{what} is not available to OAuth tokens")
