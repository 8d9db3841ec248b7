"""The ASGI application: routing, authentication, rate limits, and the one error renderer."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

import orjson

from porch.api import all_routes, channel_api_jwt
from porch.api.http import Request, Response
from porch.api.routing import Router
from porch.channels.email import relay as email_relay
from porch.channels.email import smtp_server
from porch.config import Settings
from porch.domain import channel_jwt
from porch.domain.auth import Authenticator
from porch.domain.errors import Conflict, MethodNotAllowed, Moved, PorchError, RateLimited
from porch.domain.ratelimit import DEFAULT_PER_MINUTE, Quota, RateLimiter
from porch.events import consumer
from porch.events.rules.engine import RulesEngine
from porch.events.rules.timers import run_rule_timers
from porch.events.search_index import SearchIndex
from porch.storage import BlobStore
from porch.storage.local import LocalBlobStore
from porch.store import db as dbmod
from porch.workers.email_out import run_email_out
from porch.workers.imap import run_imap
from porch.workers.intake import run_intake
from porch.workers.outbound import Policy, run_outbound
from porch.workers.reminders import run_reminders
from porch.workers.statistics import run_statistics
from porch.workers.webhooks import start_webhooks

log = logging.getLogger("porch")

# Unauthenticated responses report the default budget as untouched: the headers are on every
# response (some clients read them unconditionally), but no company's budget is involved.
_ANON = Quota(DEFAULT_PER_MINUTE, DEFAULT_PER_MINUTE, 0.0)


def error_body(exc: PorchError) -> bytes:
    """Front's error envelope."""
    return orjson.dumps(
        {
            "_error": {
                "status": exc.status,
                "title": exc.title,
                "message": exc.message,
                "details": exc.details,
            }
        }
    )


class Porch:
    """One Porch API process."""

    def __init__(self, settings: Settings, db: dbmod.Database | None = None) -> None:
        self.settings = settings
        self.router = Router()
        for op in all_routes():
            self.router.add(op)
        self._db = db
        self.auth: Authenticator | None = None
        self.limiter: RateLimiter | None = None
        self.blobs: BlobStore = LocalBlobStore(settings.data_dir / "attachments")
        self._stop = asyncio.Event()
        self._intake = asyncio.Event()
        self._in_flight = 0
        self._smtp: asyncio.AbstractServer | None = None
        self._workers: list[asyncio.Task[None]] = []
        if db is not None:
            self._attach(db)

    @property
    def db(self) -> dbmod.Database:
        assert self._db is not None, "the database is opened at startup"
        return self._db

    def _attach(self, db: dbmod.Database) -> None:
        self._db = db
        self.auth = Authenticator(db, self.settings.auth_cache_seconds)
        self.limiter = RateLimiter(db)

    async def startup(self) -> None:
        if self._db is None:
            self._attach(
                await dbmod.connect(
                    self.settings.database_url, sqlite_synchronous=self.settings.sqlite_synchronous
                )
            )
        self._stop = asyncio.Event()
        self._workers = []
        if not self.settings.run_workers:  # an API-only process: ``porch worker`` runs them
            return
        # Reminders that fell due while no process ran fire now, then as they fall due.
        self._workers = [asyncio.create_task(run_reminders(self.db, self._stop))]
        # Sent messages still in the outbox (also from before a restart) leave now.
        s = self.settings
        policy = Policy(backoff=s.outbox_backoff_seconds, max_attempts=s.outbox_max_attempts)
        outbound = run_outbound(
            self.db,
            self._stop,
            base_url=s.public_url or "http://localhost",
            policy=policy,
            interval=s.outbox_poll_seconds,
        )
        self._workers.append(asyncio.create_task(outbound))
        # Email leaves through the SMTP relay, when one is configured (a bad URL stops startup).
        if s.smtp_relay_url is not None:
            email_out = run_email_out(
                self.db,
                self._stop,
                blobs=self.blobs,
                to=email_relay.parse_url(s.smtp_relay_url),
                policy=policy,
                interval=s.outbox_poll_seconds,
            )
            self._workers.append(asyncio.create_task(email_out))
        # The search index follows the event log, resuming from its stored position.
        index = consumer.run(
            self.db,
            SearchIndex(),
            self._stop,
            interval=s.consumer_poll_seconds,
            gap_seconds=s.consumer_gap_seconds,
        )
        self._workers.append(asyncio.create_task(index))
        # Rules follow the event log too; their time-based triggers fire from a timer loop.
        rules_consumer = consumer.run(
            self.db,
            RulesEngine(),
            self._stop,
            interval=s.consumer_poll_seconds,
            gap_seconds=s.consumer_gap_seconds,
        )
        self._workers.append(asyncio.create_task(rules_consumer))
        rule_timers = run_rule_timers(self.db, self._stop, interval=s.rules_timer_poll_seconds)
        self._workers.append(asyncio.create_task(rule_timers))
        # Webhooks: the event log fans out to applications; queued deliveries go out.
        self._workers.extend(start_webhooks(self.db, self._stop, s))
        # Accepted messages are written into conversations (leftovers of a stop first).
        self._intake = asyncio.Event()
        intake = run_intake(
            self.db,
            self._stop,
            self._intake,
            interval=s.intake_poll_seconds,
            blobs=self.blobs,
            busy=lambda: self._in_flight > 0,
        )
        self._workers.append(asyncio.create_task(intake))
        # IMAP mailboxes configured on channels are imported (each by one process at a time).
        imap = run_imap(
            self.db,
            self._stop,
            blobs=self.blobs,
            database_url=s.database_url,
            poll_seconds=s.imap_poll_seconds,
            wake=self.wake_intake,
        )
        self._workers.append(asyncio.create_task(imap))
        # SQLite has no planner statistics unless someone gathers them.
        if self.db.dialect == "sqlite":
            self._workers.append(asyncio.create_task(run_statistics(self.db, self._stop)))
        # Inbound mail, when this process listens for it.
        if s.smtp_port is not None:
            try:
                self._smtp = await smtp_server.start(self.db, self.blobs, s, self.wake_intake)
            except OSError as exc:
                # The API is still worth serving; the operator sees why mail is not taken.
                log.error("inbound SMTP not started on %s:%s: %s", s.smtp_host, s.smtp_port, exc)

    def wake_intake(self) -> None:
        """New intake rows are committed: the intake worker writes them now."""
        self._intake.set()

    async def shutdown(self) -> None:
        self._stop.set()
        if self._smtp is not None:
            self._smtp.close()
            await self._smtp.wait_closed()
            self._smtp = None
        for task in self._workers:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._workers = []
        if self._db is not None:
            await self._db.close()
            self._db = None

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        kind = scope["type"]
        if kind == "http":
            await self._http(scope, receive, send)
        elif kind == "lifespan":
            await self._lifespan(receive, send)

    async def _lifespan(self, receive: Any, send: Any) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                try:
                    await self.startup()
                except Exception as exc:
                    log.exception("startup failed")
                    await send({"type": "lifespan.startup.failed", "message": str(exc)})
                    return
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await self.shutdown()
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def handle(self, req: Request) -> tuple[Response, Quota]:
        """Route, authenticate, count and run one request; errors become envelopes."""
        quota = _ANON
        try:
            op, req.path_params = self.router.match(req.method, req.path)
            if op.auth:
                assert self.auth is not None and self.limiter is not None
                header = req.header("authorization")
                if channel_jwt.looks_like_jwt(header):
                    # A partner's Channel API JWT: its channel's Channel API routes, and the
                    # routes of its channel's conversations and messages.
                    op = channel_api_jwt.jwt_operation(op)
                    assert header is not None
                    principal = await channel_jwt.authenticate(
                        self.db, header=header, channel_ref=req.path_params.get("channel_id")
                    )
                else:
                    principal = await self.auth.authenticate(header)
                req.principal = principal
                quota = await self.limiter.hit(principal)
                if op.burst is not None:
                    tier, param = op.burst
                    resource = req.path_params.get(param, "") if param else ""
                    await self.limiter.hit_burst(principal, tier, resource)
                if op.permission is not None:
                    principal.require(op.permission)
            return await op.handler(req), quota
        except Moved as exc:
            return self._moved(req, exc), quota
        except PorchError as exc:
            if isinstance(exc, RateLimited) and exc.tier is None and req.principal is not None:
                # The minute budget is spent: say so in the headers (Front sends remaining 0).
                assert self.limiter is not None
                quota = self.limiter.exhausted(req.principal)
            return self._error(exc, quota), quota
        except dbmod.IntegrityError:
            # A concurrent writer won a uniqueness race the action had checked for.
            clash = Conflict("This conflicts with an object created at the same moment; retry")
            return self._error(clash, quota), quota
        except Exception:
            log.exception("unhandled error on %s %s", req.method, req.path)
            err = PorchError("Something went wrong; the error was logged")
            return self._error(err, quota), quota

    def _error(self, exc: PorchError, quota: Quota) -> Response:
        resp = Response(exc.status, error_body(exc))
        if isinstance(exc, MethodNotAllowed):
            resp.headers.append(("allow", ", ".join(exc.allow)))
        if isinstance(exc, RateLimited):
            resp.headers.append(("retry-after", str(exc.retry_after)))
            if exc.tier:
                resp.headers.append(("x-front-tier", exc.tier))
        return resp

    @staticmethod
    def _moved(req: Request, exc: Moved) -> Response:
        """301 to the same route of the surviving object (Front does this for merged
        conversations), the query string kept; the body is empty, as the spec has none."""
        segments = [exc.new_ref if seg == exc.old_ref else seg for seg in req.path.split("/")]
        location = req.url("/".join(segments))
        query = req.scope.get("query_string", b"").decode("latin-1")
        if query:
            location += "?" + query
        return Response(301, b"", None, headers=[("location", location)])

    async def _http(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        req = Request(self, scope, receive)
        self._in_flight += 1
        try:
            resp, quota = await self.handle(req)
        finally:
            self._in_flight -= 1
        headers = [
            (b"x-ratelimit-limit", str(quota.limit).encode()),
            (b"x-ratelimit-remaining", str(quota.remaining).encode()),
            (b"x-ratelimit-reset", str(quota.reset).encode()),
            (b"content-length", str(len(resp.body)).encode()),
        ]
        if resp.content_type:
            headers.append((b"content-type", resp.content_type.encode()))
        for name, value in resp.headers:
            headers.append((name.encode("latin-1"), value.encode("latin-1")))
        await send({"type": "http.response.start", "status": resp.status, "headers": headers})
        await send({"type": "http.response.body", "body": resp.body})
