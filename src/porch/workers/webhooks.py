"""Delivering webhooks: the rows of ``webhook_deliveries`` are POSTed to their subscription's
URL, signed, at least once, in order per subscription and conversation.

Every worker process runs the loop. It claims due rows with a conditional UPDATE that moves
``next_attempt_at`` a lease ahead (any number of processes share the work; a row whose process
died mid-attempt is due again when the lease runs out, and is then sent again with the same
body and event id). Up to ``concurrency`` POSTs are in flight; their outcomes are written in
batches, one transaction per batch. A row is only due while no earlier pending row of the same
subscription and conversation exists, so a conversation's events arrive in order even with
many in flight. A failed attempt is retried after an exponential backoff with jitter, until
``max_age`` after it was queued or replayed (then the row is ``failed`` and can be replayed);
a run of ``disable_after`` failed attempts in a row disables the subscription, with the
reason, until an admin enables it again.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import random
import time
from collections import defaultdict
from dataclasses import dataclass
from urllib.parse import urlsplit

from porch.client import wire
from porch.config import Settings
from porch.events import consumer
from porch.events.webhooks import AppWebhooks, render, signing
from porch.events.webhooks.targets import RefusedTarget, address_for
from porch.store.db import Database
from porch.store.webhooks import outbox as store
from porch.store.webhooks import subscriptions as subs_store
from porch.timeutil import now_ms

logger = logging.getLogger("porch.webhooks")


@dataclass(frozen=True, slots=True)
class Policy:
    """How the worker delivers: see ``porch.config.Settings`` (``webhook_*``)."""

    timeout: float = 5.0
    backoff: float = 1.0
    max_backoff: float = 3600.0
    max_age: float = 86400.0
    disable_after: int = 50
    lease: float = 30.0
    concurrency: int = 64
    poll: float = 0.1

    def delay(self, attempts: int) -> float:
        """Seconds before the next attempt after ``attempts`` failed ones: doubling from
        ``backoff`` up to ``max_backoff``, times a random factor in [0.5, 1) so that rows
        failed together do not come back together."""
        base = min(self.max_backoff, self.backoff * 2.0 ** min(40, max(0, attempts - 1)))
        return float(base) * (0.5 + random.random() / 2)  # noqa: S311 (jitter, not a secret)


@dataclass(frozen=True, slots=True)
class Result:
    row: store.Due
    status: int | None
    duration_ms: int
    error: str | None
    at: int


# --- Waking ------------------------------------------------------------------------------------

_wakers: set[tuple[asyncio.AbstractEventLoop, asyncio.Event]] = set()


def wake_soon(delay: float = 0.005) -> None:
    """Have this process's delivery workers look shortly (new rows are about to commit)."""
    for loop, event in list(_wakers):
        with contextlib.suppress(RuntimeError):
            loop.call_soon_threadsafe(loop.call_later, delay, event.set)


# --- One attempt --------------------------------------------------------------------------------


def _headers(row: store.Due, body: bytes, now: int) -> list[tuple[bytes, bytes]]:
    headers = [(b"Content-Type", b"application/json"), (b"User-Agent", USER_AGENT)]
    if row.kind == "application":
        signed = signing.app_headers(row.app_secret or "", body, now)
    elif row.api_secret is not None:
        signed = signing.rule_headers(row.api_secret, body)
    else:
        signed = {}
    headers.extend((k.encode(), v.encode()) for k, v in signed.items())
    return headers


USER_AGENT = b"Porch-Webhooks/1"


@functools.lru_cache(maxsize=4096)
def _where(url: str, allow_private: bool) -> tuple[wire.Origin, str]:
    """The origin and request target of a subscription's URL (saved URLs were checked to be
    absolute http(s) URLs). Connections allowed to reach private addresses are kept apart."""
    parts = urlsplit(url)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    tag = "private-ok" if allow_private else ""
    return wire.origin_of(parts.scheme, parts.hostname or "", parts.port, tag), target


async def _address(origin: wire.Origin) -> str:
    """Where a new connection goes: the host's address after the private-target check."""
    return await address_for(origin.host, allow_private=origin.tag == "private-ok")


def connection_pool(policy: Policy) -> wire.Pool:
    """The worker's connections: ``concurrency`` at most, each to an address checked when it
    was opened."""
    return wire.Pool(limit=policy.concurrency, resolve=_address)


async def attempt(pool: wire.Pool, row: store.Due, policy: Policy) -> Result:
    """POST ``row`` once; what came of it."""
    start = time.monotonic()
    at = now_ms()
    body = row.body.encode()
    status: int | None = None
    error: str | None = None
    try:
        origin, target = _where(row.url, row.allow_private)
        answer = await pool.request(
            "POST",
            origin,
            target,
            _headers(row, body, at),
            body,
            connect_timeout=policy.timeout,
            read_timeout=policy.timeout,
        )
        status = answer.status
        if not 200 <= status < 300:
            error = f"the endpoint answered {status}"
    except RefusedTarget as exc:
        error = str(exc)
    except (wire.WireError, ValueError) as exc:
        error = f"{type(exc).__name__}: {exc}"[:500] if str(exc) else type(exc).__name__
    duration = round((time.monotonic() - start) * 1000)
    return Result(row, status, duration, error, at)


# --- Recording outcomes ------------------------------------------------------------------------


async def record(db: Database, results: list[Result], policy: Policy) -> None:
    """Write a batch of outcomes in one transaction: each attempt logged, each row delivered,
    due again or given up, each subscription's run of failures counted (and the subscription
    disabled when it reaches the limit)."""
    now = now_ms()
    runs: dict[int, _Run] = defaultdict(_Run)
    outcomes: list[store.Outcome] = []
    for r in results:
        retry_at: int | None = None
        if r.error is not None and now - r.row.created_at < policy.max_age * 1000:
            retry_at = now + round(policy.delay(r.row.attempts + 1) * 1000)
        outcomes.append(store.Outcome(r.row, r.status, r.duration_ms, r.error, retry_at))
        runs[r.row.subscription_id].add(r.error)
    async with db.transaction() as tx:
        await store.record_attempts(tx, outcomes, now=now)
        for key, run in runs.items():
            reason = (
                f"disabled after {policy.disable_after} failed deliveries in a row; "
                f"the last: {run.last_error}"
            )
            disabled = await store.record_subscription(
                tx,
                key=key,
                reset=run.reset,
                failed=run.failed,
                threshold=policy.disable_after,
                reason=reason,
                now=now,
            )
            if disabled:
                await subs_store.sync_application_state(tx, subscription_id=key, now=now)
                logger.warning("webhook subscription %d %s", key, reason)


@dataclass(slots=True)
class _Run:
    """A subscription's results within one batch, in order."""

    reset: bool = False  # a delivery succeeded: the count starts again
    failed: int = 0  # failures since (or, without a success, added to the stored count)
    last_error: str = ""

    def add(self, error: str | None) -> None:
        if error is None:
            self.reset, self.failed = True, 0
        else:
            self.failed += 1
            self.last_error = error


# --- The loop ----------------------------------------------------------------------------------


class Deliverer:
    """One process's delivery loop: claims due rows while fewer than ``concurrency`` POSTs are
    in flight, POSTs each in its own task, and writes outcomes in batches. A place is free
    again as soon as its POST is answered: the outcome's write (and its fsync) happens beside
    the next POSTs, up to ``4 × concurrency`` outcomes waiting to be written. Until written, a
    row keeps its lease, and holds its conversation's next row back."""

    def __init__(self, db: Database, pool: wire.Pool, policy: Policy) -> None:
        self.db = db
        self.pool = pool
        self.policy = policy
        self.wake = asyncio.Event()
        self._in_flight = 0  # POSTs not answered yet
        self._unrecorded = 0  # answered, outcome not written yet
        self._done: list[Result] = []
        self._have_done = asyncio.Event()
        self._tasks: set[asyncio.Task[None]] = set()
        self._batch = max(1, policy.concurrency // 4)

    async def claim(self, limit: int) -> list[store.Due]:
        now = now_ms()
        found = await store.due(self.db, now=now, limit=limit)
        if not found:
            return []
        lease_until = now + round(self.policy.lease * 1000)
        # A claim lost in a crash only means its rows are attempted again: the POSTs need not
        # wait for it to reach the disk (their outcomes, written later, do).
        async with self.db.transaction(durable=False) as tx:
            return await store.claim(tx, rows=found, now=now, lease_until=lease_until)

    async def _one(self, row: store.Due) -> None:
        try:
            result = await attempt(self.pool, row, self.policy)
        except Exception as exc:  # never lose the outcome of a claimed row
            logger.exception("webhook delivery %d failed unexpectedly", row.id)
            result = Result(row, None, 0, f"{type(exc).__name__}: {exc}"[:500], now_ms())
        self._in_flight -= 1
        self._unrecorded += 1
        self._done.append(result)
        self._have_done.set()
        self.wake.set()

    async def recorder(self, stop: asyncio.Event) -> None:
        """Write finished attempts as they come, in batches; then wake the claimer (a recorded
        delivery may make the next row of its conversation due)."""
        while not (stop.is_set() and self._in_flight == 0 and self._unrecorded == 0):
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._have_done.wait(), timeout=0.5)
            self._have_done.clear()
            if not self._done:
                continue
            batch, self._done = self._done, []
            for _ in range(100):  # bounded retries of a failed write; the lease covers the rest
                try:
                    await record(self.db, batch, self.policy)
                    break
                except Exception:
                    logger.exception("recording webhook deliveries failed; retrying")
                    await asyncio.sleep(0.5)
            self._unrecorded -= len(batch)
            self.wake.set()

    async def run(self, stop: asyncio.Event) -> None:
        recorder = asyncio.create_task(self.recorder(stop))
        try:
            while not stop.is_set():
                room = self.policy.concurrency - self._in_flight
                if self._unrecorded >= 4 * self.policy.concurrency:
                    room = 0  # the writes are behind: let them catch up
                claimed: list[store.Due] = []
                # Look for due rows once a quarter of the places are free (or none is taken):
                # finding them costs about the same for a few rows as for many.
                if room > 0 and (room >= self._batch or self._in_flight == 0):
                    try:
                        claimed = await self.claim(room)
                    except Exception:
                        logger.exception("claiming webhook deliveries failed")
                for row in claimed:
                    self._in_flight += 1
                    task = asyncio.create_task(self._one(row))
                    self._tasks.add(task)
                    task.add_done_callback(self._tasks.discard)
                if claimed and len(claimed) == room:
                    continue  # maybe more due: look again once something finishes
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.wake.wait(), timeout=self.policy.poll)
                self.wake.clear()
        finally:
            # Let what is in flight finish and be recorded (bounded by the POST timeout).
            if self._tasks:
                await asyncio.wait(set(self._tasks), timeout=self.policy.timeout + 1)
            stop.set()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(recorder, timeout=5)


async def run_webhooks(db: Database, stop: asyncio.Event, *, policy: Policy) -> None:
    """Deliver webhooks until ``stop`` is set; errors are logged and the loop goes on."""
    pool = connection_pool(policy)
    deliverer = Deliverer(db, pool, policy)
    me = (asyncio.get_running_loop(), deliverer.wake)
    _wakers.add(me)
    try:
        await deliverer.run(stop)
    finally:
        _wakers.discard(me)
        await pool.aclose()


async def run_fanout(
    db: Database, stop: asyncio.Event, *, policy: Policy, gap_seconds: float
) -> None:
    """The application-webhook consumer of the event log (``AppWebhooks``)."""
    await consumer.run(db, AppWebhooks(), stop, interval=policy.poll, gap_seconds=gap_seconds)


def policy_of(settings: Settings) -> Policy:
    """The delivery policy ``settings`` give."""
    s = settings
    return Policy(
        timeout=s.webhook_timeout_seconds,
        backoff=s.webhook_backoff_seconds,
        max_backoff=s.webhook_max_backoff_seconds,
        max_age=s.webhook_max_age_seconds,
        disable_after=s.webhook_disable_after,
        lease=s.webhook_lease_seconds,
        concurrency=s.webhook_concurrency,
        poll=s.webhook_poll_seconds,
    )


def start_webhooks(
    db: Database, stop: asyncio.Event, settings: Settings
) -> list[asyncio.Task[None]]:
    """Start this process's webhook fan-out consumer and delivery worker."""
    render.configure(settings.public_url)
    policy = policy_of(settings)
    fanout = run_fanout(db, stop, policy=policy, gap_seconds=settings.consumer_gap_seconds)
    return [
        asyncio.create_task(fanout),
        asyncio.create_task(run_webhooks(db, stop, policy=policy)),
    ]
