"""Rate limits per company, shared by every API process of one database.

Each company has a per-minute budget (Front's plans are presets: 50, 100, 200; a self-hosted
company defaults to a generous figure) counted in fixed one-minute windows. Processes do not ask
the database on every request: each leases a slice of the window's budget from the
``rate_limit_windows`` row (an atomic read-and-add in a transaction) and spends it locally, so
the database sees one write per slice and the company never gets more than its budget in a
window, however many processes serve it. Slices are small when the budget is small (one request
for a 50/minute plan), so small plans are exact.

Front's burst tiers are separate, per-resource buckets of one second (tier 1: 1 request/s for
exports; tier 2: 5 requests/s per resource id, e.g. a channel's incoming messages); a company has
them only when its ``rate_limit_burst`` setting is on, as with Front's presets.
"""

from __future__ import annotations

import asyncio
import math
import time
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql as pg
from sqlalchemy.dialects import sqlite as sq

from porch.domain.errors import RateLimited
from porch.domain.principal import Principal
from porch.store.db import Database, Query
from porch.store.tables import rate_limit_windows as w

PRESETS = {"starter": 50, "professional": 100, "growth": 100, "enterprise": 200, "scale": 200}
DEFAULT_PER_MINUTE = 100_000
BURST_TIERS = {"tier1": 1, "tier2": 5}
# Each OAuth app has its own minute budget per company (bucket "oauth:<app key>"), apart from the
# company's API-token budget, as Front gives partner apps a separate 120 requests per minute.
OAUTH_APP_PER_MINUTE = 120

_KEY = (
    (w.c.company_id == sa.bindparam("company_id"))
    & (w.c.bucket == sa.bindparam("bucket"))
    & (w.c.window_start == sa.bindparam("window_start"))
)
_VALUES = {
    "company_id": sa.bindparam("company_id"),
    "bucket": sa.bindparam("bucket"),
    "window_start": sa.bindparam("window_start"),
    "used": 0,
}
_ENSURE = Query(
    sq.insert(w).values(**_VALUES).on_conflict_do_nothing(),
    postgresql=pg.insert(w).values(**_VALUES).on_conflict_do_nothing(),
)
_READ = Query(sa.select(w.c.used).where(_KEY).with_for_update())
_ADD = Query(sa.update(w).where(_KEY).values(used=w.c.used + sa.bindparam("n")))
_PRUNE = Query(
    sa.delete(w).where(
        w.c.company_id == sa.bindparam("company_id"),
        w.c.window_start < sa.bindparam("before"),
    )
)


@dataclass(frozen=True, slots=True)
class Quota:
    """What the ``x-ratelimit-*`` headers report after a request was counted."""

    limit: int
    remaining: int
    reset: float


@dataclass(slots=True)
class _Lease:
    window: int
    granted: int = 0
    spent: int = 0
    used_everywhere: int = 0
    # The budget the slice was leased under; a company's budget can change within a window.
    limit: int = 0


class RateLimiter:
    """Counts requests per company and bucket; raises RateLimited past the budget."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self._leases: dict[tuple[int, str], _Lease] = {}
        self._locks: dict[tuple[int, str], asyncio.Lock] = {}

    async def hit(self, principal: Principal) -> Quota:
        """Count one request of ``principal`` against its company's minute budget."""
        limit = principal.rate_limit_per_minute
        now = time.time()
        window = int(now // 60) * 60
        reset = float(window + 60)
        lease = await self._spend((principal.company_id, principal.bucket), window, limit, 60)
        if lease is None:
            raise RateLimited(
                f"Rate limit of {limit} requests per minute exceeded",
                retry_after=max(1, math.ceil(reset - now)),
            )
        remaining = max(0, limit - lease.used_everywhere + (lease.granted - lease.spent))
        return Quota(limit, remaining, reset)

    def exhausted(self, principal: Principal) -> Quota:
        """What the headers report when ``principal``'s minute budget is spent."""
        window = int(time.time() // 60) * 60
        return Quota(principal.rate_limit_per_minute, 0, float(window + 60))

    async def release_company(self, company_id: int) -> None:
        """Hand back what this process leased but did not spend for a company whose budget
        just changed, so that every process counts the new budget from the requests served."""
        for key, lease in list(self._leases.items()):
            if key[0] != company_id:
                continue
            async with self._locks.setdefault(key, asyncio.Lock()):
                await self._give_back(key, lease)
                if self._leases.get(key) is lease:
                    del self._leases[key]

    async def hit_burst(self, principal: Principal, tier: str, resource: str) -> None:
        """Count one request against a per-resource burst tier, if the company has them."""
        if not principal.rate_limit_burst:
            return
        limit = BURST_TIERS[tier]
        now = time.time()
        window = int(now)
        key = (principal.company_id, f"{tier}:{resource}")
        if await self._spend(key, window, limit, 1) is None:
            exc = RateLimited(f"Burst limit of {limit} requests per second exceeded", retry_after=1)
            exc.tier = tier
            raise exc

    async def _spend(
        self, key: tuple[int, str], window: int, limit: int, span: int
    ) -> _Lease | None:
        lease = self._leases.get(key)
        if lease is None or lease.window != window:
            lease = _Lease(window, limit=limit)
            self._leases[key] = lease
        if lease.spent < lease.granted and lease.limit == limit:
            lease.spent += 1
            return lease
        lock = self._locks.setdefault(key, asyncio.Lock())
        async with lock:
            if lease.limit != limit:
                await self._give_back(key, lease)
                lease.limit = limit
            if lease.spent < lease.granted:
                lease.spent += 1
                return lease
            if lease.used_everywhere >= limit:
                return None
            granted, used = await self._lease(key, window, limit, span)
            lease.granted += granted
            lease.used_everywhere = used
            if lease.spent < lease.granted:
                lease.spent += 1
                return lease
            return None

    async def _give_back(self, key: tuple[int, str], lease: _Lease) -> None:
        """Return the unspent part of ``lease`` to the shared count.

        Called when the company's budget changed within the window: a slice leased under the
        old budget (up to 500 requests for a large one) must not be spent under a smaller new
        one, and the new budget should count only the requests actually served.
        """
        unspent = lease.granted - lease.spent
        if unspent <= 0:
            return
        company_id, bucket = key
        params = {"company_id": company_id, "bucket": bucket, "window_start": lease.window}
        async with self._db.transaction() as tx:
            await tx.execute(_ADD, n=-unspent, **params)
        lease.granted = lease.spent
        lease.used_everywhere = max(0, lease.used_everywhere - unspent)

    async def _lease(
        self, key: tuple[int, str], window: int, limit: int, span: int
    ) -> tuple[int, int]:
        company_id, bucket = key
        chunk = max(1, min(limit // 50, 500))
        params = {"company_id": company_id, "bucket": bucket, "window_start": window}
        async with self._db.transaction() as tx:
            await tx.execute(_ENSURE, **params)
            row = await tx.fetch_one(_READ, **params)
            used = int(row["used"]) if row else 0
            granted = max(0, min(chunk, limit - used))
            if granted:
                await tx.execute(_ADD, n=granted, **params)
            if span == 60 and used == 0:
                # First lease of a window: forget windows long gone.
                await tx.execute(_PRUNE, company_id=company_id, before=window - 3600)
        return granted, used + granted
