"""API tokens: issued once, stored hashed, verified per request with a short cache.

A token is ``porch_`` plus 43 URL-safe characters (256 random bits). Only its SHA-256 is stored,
so a leaked database does not leak working tokens. Verified tokens are cached in-process for
``Settings.auth_cache_seconds``; revoking through this process drops the cache entry at once.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from dataclasses import dataclass

import orjson
import sqlalchemy as sa

from porch.domain.errors import Unauthorized
from porch.domain.principal import PERMISSIONS, Principal
from porch.domain.ratelimit import OAUTH_APP_PER_MINUTE
from porch.store import oauth as oauth_store
from porch.store.db import Database, Query
from porch.store.tables import api_tokens, companies

PREFIX = "porch_"
# OAuth access tokens (porch.domain.oauth) start with this; no API token can ("porch_").
OAUTH_ACCESS_PREFIX = "porchoa_"

_LOOKUP = Query(
    sa.select(
        api_tokens.c.id,
        api_tokens.c.company_id,
        api_tokens.c.namespaces,
        api_tokens.c.permissions,
        companies.c.rate_limit_per_minute,
        companies.c.rate_limit_burst,
    )
    .join(companies, companies.c.id == api_tokens.c.company_id)
    .where(api_tokens.c.token_hash == sa.bindparam("h"), api_tokens.c.revoked_at.is_(None))
)


def new_secret() -> str:
    """A fresh token secret (shown once to whoever creates it)."""
    return PREFIX + secrets.token_urlsafe(32)


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def principal_from(
    *,
    token_id: int | None,
    company_id: int,
    namespaces: list[str],
    permissions: list[str],
    rate_limit_per_minute: int,
    rate_limit_burst: bool,
    bucket: str = "api",
) -> Principal:
    """Build the caller from a token's stored namespaces and permissions."""
    teams = frozenset(int(n.split(":", 1)[1]) for n in namespaces if n.startswith("team:"))
    return Principal(
        company_id=company_id,
        token_id=token_id,
        shared="shared" in namespaces,
        private="private" in namespaces,
        provisioning="provisioning" in namespaces,
        team_ids=teams,
        permissions=frozenset(permissions),
        rate_limit_per_minute=rate_limit_per_minute,
        rate_limit_burst=rate_limit_burst,
        bucket=bucket,
    )


@dataclass(slots=True)
class _Cached:
    principal: Principal
    expires: float


class Authenticator:
    """Turns an ``Authorization`` header into a Principal, or raises Unauthorized."""

    def __init__(self, db: Database, cache_seconds: float) -> None:
        self._db = db
        self._ttl = cache_seconds
        self._cache: dict[str, _Cached] = {}

    async def authenticate(self, header: str | None) -> Principal:
        if not header:
            raise Unauthorized("Missing Authorization header")
        scheme, _, secret = header.partition(" ")
        secret = secret.strip()
        if scheme.lower() != "bearer" or not secret:
            raise Unauthorized("The Authorization header must be 'Bearer <token>'")
        digest = hash_secret(secret)
        now = time.monotonic()
        hit = self._cache.get(digest)
        if hit is not None and hit.expires > now:
            return hit.principal
        if secret.startswith(OAUTH_ACCESS_PREFIX):
            return await self._oauth(digest, now)
        row = await self._db.fetch_one(_LOOKUP, h=digest)
        if row is None:
            self._cache.pop(digest, None)
            raise Unauthorized("Unknown or revoked API token")
        principal = principal_from(
            token_id=row["id"],
            company_id=row["company_id"],
            namespaces=orjson.loads(row["namespaces"]),
            permissions=orjson.loads(row["permissions"]),
            rate_limit_per_minute=row["rate_limit_per_minute"],
            rate_limit_burst=bool(row["rate_limit_burst"]),
        )
        if len(self._cache) > 10_000:
            self._cache.clear()
        self._cache[digest] = _Cached(principal, now + self._ttl)
        return principal

    async def _oauth(self, digest: str, now: float) -> Principal:
        """An OAuth app's access token: the company's shared resources only (no private
        resources, no provisioning), every permission, and the app's own rate bucket. Its token
        key is minus the grant's key: "made by this token" checks (drafts, comments) then hold
        across refreshes and never match an API token."""
        wall = time.time()
        row = await oauth_store.live_access(self._db, token_hash=digest, now=int(wall * 1000))
        if row is None:
            self._cache.pop(digest, None)
            raise Unauthorized("Unknown, expired or revoked OAuth token")
        principal = principal_from(
            token_id=-int(row["grant_id"]),
            company_id=row["company_id"],
            namespaces=["shared"],
            permissions=list(PERMISSIONS),
            rate_limit_per_minute=OAUTH_APP_PER_MINUTE,
            rate_limit_burst=bool(row["rate_limit_burst"]),
            bucket=f"oauth:{row['application_id']}",
        )
        # Trusted no longer than the cache allows, nor past the token's expiry.
        until = min(now + self._ttl, now + row["expires_at"] / 1000 - wall)
        if len(self._cache) > 10_000:
            self._cache.clear()
        self._cache[digest] = _Cached(principal, until)
        return principal

    def forget_token(self, token_id: int) -> None:
        """Drop a revoked token from the cache (other processes drop it within the TTL)."""
        for key, hit in list(self._cache.items()):
            if hit.principal.token_id == token_id:
                del self._cache[key]

    def forget_company(self, company_id: int) -> None:
        """Drop every cached token of a company whose settings changed."""
        for key, hit in list(self._cache.items()):
            if hit.principal.company_id == company_id:
                del self._cache[key]
