"""The event-log consumer runner on real databases: order, resuming from the stored position,
rollback on failure, gaps in event ids, one process per batch; and the search index catching up
after a server restart."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
import sqlalchemy as sa

from porch import config
from porch.app import Porch
from porch.domain import companies
from porch.events import consumer, log
from porch.store import migrate
from porch.store.db import Connection, Database, Query, Row, connect
from porch.store.tables import events
from tests.conftest import Server, _serve, make_company
from tests.pg import PgServer, free_port

_INSERT_WITH_ID = Query(
    sa.insert(events).values(
        id=sa.bindparam("id"),
        company_id=sa.bindparam("company_id"),
        type="tag_created",
        is_public=False,
        emitted_at=0,
        source_type="api",
        data="{}",
    )
)


class Recorder:
    """A consumer that remembers what it was given, and can be told to fail once."""

    name = "recorder"

    def __init__(self) -> None:
        self.seen: list[int] = []
        self.fail_next = False

    async def apply(self, tx: Connection, events: list[Row]) -> None:
        if self.fail_next:
            self.fail_next = False
            raise RuntimeError("boom")
        self.seen.extend(int(e["id"]) for e in events)


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "postgresql":
        pg: PgServer = request.getfixturevalue("pg_server")
        url = pg.create_database("consumer_" + uuid.uuid4().hex[:12])
    else:
        url = f"sqlite:///{tmp_path / 'c.db'}"
    migrate.upgrade(url)
    yield url


def _run(url: str, body: Callable[[Database], Awaitable[None]]) -> None:
    """Run ``body`` on a fresh connection to ``url`` (no async test plugin needed)."""

    async def go() -> None:
        database = await connect(url, pool_size=3)
        try:
            await body(database)
        finally:
            await database.close()

    asyncio.run(go())


async def _company(db: Database) -> int:
    new = await companies.do_create_company(
        db,
        name=f"Dunder Mifflin {uuid.uuid4().hex[:6]}",
        admin_email="michael@dundermifflin.com",
        rate_limit_per_minute=100_000,
    )
    return new.company_id


async def _append(db: Database, company_id: int, n: int) -> list[int]:
    out = []
    for _ in range(n):
        async with db.transaction() as tx:
            out.append(
                await log.append(tx, company_id=company_id, type="tag_created", source=log.SYSTEM)
            )
    return out


def test_runner_applies_in_order_and_resumes_from_its_position(db_url: str) -> None:
    _run(db_url, _test_runner_applies_in_order_and_resumes_from_its_position)


async def _test_runner_applies_in_order_and_resumes_from_its_position(db: Database) -> None:
    await _company(db)
    everything = await consumer.last_event_id(db)
    first = Recorder()
    runner = consumer.Runner(first, batch=2)
    for _ in range(100):
        if await runner.step(db) == 0:
            break
    assert first.seen == sorted(first.seen) and first.seen[-1] == everything
    assert len(first.seen) == len(set(first.seen))
    assert await consumer.position(db, name="recorder") == everything
    company_id = await _company(db)
    more = await _append(db, company_id, 3)
    # A new runner (a restart) starts where the last one stopped: nothing twice.
    second = Recorder()
    restarted = consumer.Runner(second)
    await restarted.step(db)
    assert second.seen[-3:] == more and not set(second.seen) & set(first.seen)
    assert await restarted.step(db) == 0


def test_a_failed_batch_changes_nothing_and_is_retried(db_url: str) -> None:
    _run(db_url, _test_a_failed_batch_changes_nothing_and_is_retried)


async def _test_a_failed_batch_changes_nothing_and_is_retried(db: Database) -> None:
    company_id = await _company(db)
    rec = Recorder()
    runner = consumer.Runner(rec)
    await runner.step(db)
    before = await consumer.position(db, name="recorder")
    more = await _append(db, company_id, 2)
    rec.fail_next = True
    with pytest.raises(RuntimeError):
        await runner.step(db)
    assert await consumer.position(db, name="recorder") == before
    assert await runner.step(db) == 2
    assert rec.seen[-2:] == more


def test_a_gap_is_waited_for_then_passed_over(db_url: str) -> None:
    _run(db_url, _test_a_gap_is_waited_for_then_passed_over)


async def _test_a_gap_is_waited_for_then_passed_over(db: Database) -> None:
    company_id = await _company(db)
    rec = Recorder()
    runner = consumer.Runner(rec, gap_seconds=0.3)
    await runner.step(db)
    last = await consumer.last_event_id(db)
    # Event last+1 is "in flight" (committed later); last+2 is already visible.
    async with db.transaction() as tx:
        await tx.execute(_INSERT_WITH_ID, id=last + 2, company_id=company_id)
    assert await runner.step(db) == 0
    async with db.transaction() as tx:
        await tx.execute(_INSERT_WITH_ID, id=last + 1, company_id=company_id)
    assert await runner.step(db) == 2
    assert rec.seen[-2:] == [last + 1, last + 2]
    # Event last+3 never commits (rolled back): after gap_seconds the runner moves past it.
    async with db.transaction() as tx:
        await tx.execute(_INSERT_WITH_ID, id=last + 4, company_id=company_id)
    assert await runner.step(db) == 0
    time.sleep(0.35)
    assert await runner.step(db) == 1
    assert rec.seen[-1] == last + 4
    assert await consumer.position(db, name="recorder") == last + 4


def test_only_one_process_works_a_batch(db_url: str) -> None:
    _run(db_url, _test_only_one_process_works_a_batch)


async def _test_only_one_process_works_a_batch(db: Database) -> None:
    if db.dialect != "postgresql":
        pytest.skip("SQLite serialises writers with BEGIN IMMEDIATE")
    company_id = await _company(db)
    holder = consumer.Runner(Recorder())
    await holder.step(db)
    await _append(db, company_id, 1)
    other = Recorder()
    # Another process holds the position row: this one skips the round instead of waiting.
    async with db.transaction() as tx:
        assert await tx.fetch_one(consumer._LOCK, name="recorder") is not None
        assert await asyncio.wait_for(consumer.Runner(other).step(db), timeout=5) == 0
    assert other.seen == []
    assert await consumer.Runner(other).step(db) == 1


def test_run_wakes_on_notify_and_stops(db_url: str) -> None:
    _run(db_url, _test_run_wakes_on_notify_and_stops)


async def _test_run_wakes_on_notify_and_stops(db: Database) -> None:
    company_id = await _company(db)
    rec = Recorder()
    stop = asyncio.Event()
    task = asyncio.create_task(consumer.run(db, rec, stop, interval=30))
    for _ in range(100):
        if rec.seen:
            break
        await asyncio.sleep(0.02)
    [added] = await _append(db, company_id, 1)
    consumer.notify()
    for _ in range(250):
        if added in rec.seen:
            break
        await asyncio.sleep(0.02)
    assert added in rec.seen
    stop.set()
    consumer.notify()
    await asyncio.wait_for(task, timeout=5)


def _found(api: Any, word: str) -> set[str]:
    body = api.ok("GET", "/conversations/search/" + quote(word, safe=""))
    return {c["id"] for c in body["_results"]}


def test_the_index_catches_up_after_a_restart(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'porch.db'}"
    migrate.upgrade(url)
    # The first process looks at the log once at startup, then not for an hour.
    sleepy = config.Settings(data_dir=tmp_path, database_url=url, consumer_poll_seconds=3600)
    port = free_port()
    srv, thread = _serve(Porch(sleepy), port)
    server = Server("sqlite", f"http://127.0.0.1:{port}", sleepy)
    company = make_company(server, "Dunder Mifflin", "michael@dundermifflin.com")
    try:
        api = company.api
        inbox = api.ok("POST", f"/teams/{company.team_id}/inboxes", 201, json={"name": "S"})
        body = {"type": "task", "subject": "Pretzel day", "inbox_id": inbox["id"]}
        conv = api.ok("POST", "/conversations", 201, json=body)["id"]
        time.sleep(0.5)
        assert _found(api, "pretzel") == set()  # written, not indexed yet
    finally:
        srv.should_exit = True
        thread.join(timeout=10)
    lively = config.Settings(data_dir=tmp_path, database_url=url, consumer_poll_seconds=0.05)
    port = free_port()
    srv, thread = _serve(Porch(lively), port)
    try:
        token = _token(company)
        company.api.close()
        company.api = type(company.api)(f"http://127.0.0.1:{port}", token)
        deadline = time.monotonic() + 10
        while _found(company.api, "pretzel") != {conv} and time.monotonic() < deadline:
            time.sleep(0.05)
        assert _found(company.api, "pretzel") == {conv}
    finally:
        company.close()
        srv.should_exit = True
        thread.join(timeout=10)


def _token(company: Any) -> str:
    return str(company.api.http.headers["Authorization"]).split(" ", 1)[1]
