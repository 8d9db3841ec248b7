"""Fixtures: a real Porch server per database, companies and people to call it as.

The server is the real ASGI app under uvicorn on a loopback port, one per backend for the whole
session (``sqlite`` and ``postgresql``); tests are isolated by creating their own company, as
tenancy guarantees companies never see each other. Every response any test receives is checked
against Front's spec (tests/spec.py).
"""

from __future__ import annotations

import asyncio
import os
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from porch import config, ids
from porch.app import Porch
from porch.domain import companies
from porch.store import migrate
from porch.store.db import connect
from tests import spec
from tests.pg import PgServer, free_port

BACKENDS = ["sqlite", "postgresql"]
_checker: spec.SpecChecker | None = spec.SpecChecker() if spec.available() else None


def pytest_report_header(config: pytest.Config) -> str:
    if _checker is None:
        return (
            f"Front spec NOT found at {spec.SPEC_DIR}: spec checks and contract tests are skipped"
        )
    return f"Front spec: {spec.CORE}"


@pytest.fixture(scope="session")
def checker() -> spec.SpecChecker:
    if _checker is None:
        pytest.skip(f"Front's spec is not at {spec.SPEC_DIR} (set PORCH_FRONT_API_DIR)")
    return _checker


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    server = PgServer()
    try:
        server.start()
    except Exception as exc:
        if os.environ.get("CI"):
            raise
        pytest.skip(f"no PostgreSQL for the tests: {exc}")
    yield server
    server.stop()


@dataclass
class Server:
    """A running Porch and how to reach its database directly."""

    backend: str
    url: str
    settings: config.Settings

    @property
    def smtp(self) -> tuple[str, int]:
        """Where the server takes inbound mail."""
        assert self.settings.smtp_port is not None
        return self.settings.smtp_host, self.settings.smtp_port

    def run(self, coro_fn: Any) -> Any:
        """Run ``coro_fn(db)`` on a fresh connection (for fixtures that need a domain action)."""

        async def go() -> Any:
            db = await connect(self.settings.database_url, pool_size=1)
            try:
                return await coro_fn(db)
            finally:
                await db.close()

        return asyncio.run(go())


def _serve(app: Porch, port: int) -> tuple[uvicorn.Server, threading.Thread]:
    cfg = uvicorn.Config(
        app, host="127.0.0.1", port=port, log_level="warning", lifespan="on", loop="asyncio"
    )
    server = uvicorn.Server(cfg)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.02)
    return server, thread


def _serve_on_a_free_port(
    settings: config.Settings,
) -> tuple[uvicorn.Server, threading.Thread, int]:
    """A Porch on a port nobody uses: a free port can be taken by another process (another
    xdist worker, a test's own server) between our probe and uvicorn's bind, so try again."""
    for attempt in range(5):
        port = free_port()
        try:
            srv, thread = _serve(Porch(settings), port)
        except RuntimeError:
            if attempt == 4:
                raise
            continue
        return srv, thread, port
    raise AssertionError("unreachable")


@pytest.fixture(scope="session", params=BACKENDS)
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    data_dir = tmp_path_factory.mktemp(f"porch-{request.param}")
    if request.param == "postgresql":
        pg: PgServer = request.getfixturevalue("pg_server")
        url = pg.create_database("porch_" + uuid.uuid4().hex[:12])
    else:
        url = f"sqlite:///{data_dir / 'porch.db'}"
    settings = config.Settings(
        data_dir=Path(data_dir),
        database_url=url,
        auth_cache_seconds=5.0,
        # Inbound mail for the email tests, on a port of its own.
        smtp_port=free_port(),
        # Rule timers ("unreplied for N minutes") are polled often so their tests stay short.
        rules_timer_poll_seconds=0.1,
    )
    migrate.upgrade(url)
    srv, thread, port = _serve_on_a_free_port(settings)
    yield Server(request.param, f"http://127.0.0.1:{port}", settings)
    srv.should_exit = True
    thread.join(timeout=10)


class Api:
    """An HTTP client with a token; checks every response against Front's spec."""

    def __init__(self, base_url: str, token: str | None) -> None:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self.base_url = base_url
        self.http = httpx.Client(base_url=base_url, headers=headers, timeout=30)

    def request(self, method: str, path: str, **kw: Any) -> httpx.Response:
        resp = self.http.request(method, path, **kw)
        if _checker is not None:
            _checker.check(
                method,
                resp.request.url.path,
                resp.status_code,
                resp.content,
                resp.headers.get("content-type"),
            )
        return resp

    def get(self, path: str, **kw: Any) -> httpx.Response:
        return self.request("GET", path, **kw)

    def post(self, path: str, **kw: Any) -> httpx.Response:
        return self.request("POST", path, **kw)

    def patch(self, path: str, **kw: Any) -> httpx.Response:
        return self.request("PATCH", path, **kw)

    def put(self, path: str, **kw: Any) -> httpx.Response:
        return self.request("PUT", path, **kw)

    def delete(self, path: str, **kw: Any) -> httpx.Response:
        return self.request("DELETE", path, **kw)

    def ok(self, method: str, path: str, status: int = 200, **kw: Any) -> Any:
        """Call and insist on ``status``; returns the parsed body (None for 204)."""
        resp = self.request(method, path, **kw)
        assert resp.status_code == status, f"{method} {path}: {resp.status_code} {resp.text[:800]}"
        return resp.json() if resp.content else None

    def message(self, uid: str, timeout: float = 15.0) -> Any:
        """``GET /messages/alt:uid:<uid>`` once the message is written: an accepted message
        (202) is written by the intake worker right after its answer, and 404 until then."""
        deadline = time.monotonic() + timeout
        while True:
            resp = self.get(f"/messages/alt:uid:{uid}")
            if resp.status_code != 404 or time.monotonic() > deadline:
                break
            time.sleep(0.01)
        assert resp.status_code == 200, f"message {uid}: {resp.status_code} {resp.text[:800]}"
        return resp.json()

    def all_pages(self, path: str, **params: Any) -> list[dict[str, Any]]:
        """Follow ``_pagination.next`` to the end and return every result."""
        out: list[dict[str, Any]] = []
        body = self.ok("GET", path, params=params)
        for _ in range(10_000):
            out.extend(body["_results"])
            nxt = body["_pagination"]["next"]
            if not nxt:
                return out
            assert nxt.startswith(self.base_url), nxt
            body = self.ok("GET", nxt[len(self.base_url) :])
        raise AssertionError("pagination never ended")

    def close(self) -> None:
        self.http.close()


@dataclass
class Company:
    """A company of the test session, its admin teammate, and an admin API client."""

    id: str
    key: int
    name: str
    admin_id: str
    team_id: str
    api: Api
    server: Server
    clients: list[Api] = field(default_factory=list)

    def client(self, token: str | None) -> Api:
        """Another client of the same server (closed with the company)."""
        api = Api(self.server.url, token)
        self.clients.append(api)
        return api

    def close(self) -> None:
        self.api.close()
        for c in self.clients:
            c.close()

    def token(
        self, *, namespaces: list[str] | None = None, permissions: list[str] | None = None
    ) -> str:
        """A new token of this company with the given scopes (created through the admin API)."""
        body = self.api.ok(
            "POST",
            "/porch/tokens",
            201,
            json={
                "name": "test",
                "namespaces": namespaces or ["shared", "private"],
                "permissions": permissions or ["read", "write", "delete", "send"],
            },
        )
        return str(body["token"])


def make_company(server: Server, name: str, admin_email: str) -> Company:
    unique = f"{name} {uuid.uuid4().hex[:6]}"

    async def create(db: Any) -> companies.NewCompany:
        return await companies.do_create_company(
            db, name=unique, admin_email=admin_email, rate_limit_per_minute=100_000
        )

    new = server.run(create)
    return Company(
        id=ids.encode(ids.COMPANY, new.company_id),
        key=new.company_id,
        name=unique,
        admin_id=ids.encode(ids.TEAMMATE, new.teammate_id),
        team_id=ids.encode(ids.TEAM, new.team_id),
        api=Api(server.url, new.token),
        server=server,
    )


@pytest.fixture
def dunder_mifflin(server: Server) -> Iterator[Company]:
    """Michael Scott's company; most tests act as its admin token."""
    company = make_company(server, "Dunder Mifflin", "michael@dundermifflin.com")
    yield company
    company.close()


@pytest.fixture
def vance_refrigeration(server: Server) -> Iterator[Company]:
    """Bob Vance's company, across the hall: it must never see Dunder Mifflin's data."""
    company = make_company(server, "Vance Refrigeration", "bob@vancerefrigeration.com")
    yield company
    company.close()


@pytest.fixture
def api(dunder_mifflin: Company) -> Api:
    return dunder_mifflin.api


# Under pytest-xdist each worker checks the responses of its own tests; the operations they saw
# answer a checked success come back to the controller, which judges the whole run.
_seen_by_workers: set[str] = set()


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: object) -> None:
    _seen_by_workers.update(getattr(node, "workeroutput", {}).get("porch_seen_ok", []))


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """With PORCH_REQUIRE_OP_COVERAGE=1 (the full suite), every Front operation Porch serves
    must have had at least one successful, spec-checked response during the run."""
    if _checker is None or os.environ.get("PORCH_REQUIRE_OP_COVERAGE") != "1":
        return
    workeroutput = getattr(session.config, "workeroutput", None)
    if workeroutput is not None:  # an xdist worker: the controller decides
        workeroutput["porch_seen_ok"] = sorted(_checker.seen_ok)
        return
    _checker.seen_ok.update(_seen_by_workers)
    served = {
        op.operation_id
        for op in Porch(config.load("/tmp/porch-unused")).router.operations
        if op.front
    }
    missing = sorted(served - _checker.seen_ok)
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if missing and reporter is not None:
        reporter.write_line(
            f"ERROR: {len(missing)} Front operations served by Porch never answered a checked "
            f"success in the tests: {', '.join(missing)}",
            red=True,
        )
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
    elif reporter is not None:
        reporter.write_line(f"All {len(served)} Front operations answered a spec-checked success.")
