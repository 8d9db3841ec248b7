"""Reminders: snoozing a conversation until a time, and the worker that reopens it then, even
when the reminder fell due while no server ran."""

from __future__ import annotations

import asyncio
import time
import uuid
from pathlib import Path
from typing import Any

import pytest

from porch import config, ids
from porch.app import Porch
from porch.domain import companies
from porch.store import conversations as conversations_store
from porch.store import migrate
from porch.store.db import connect
from tests.conftest import Api, Company, Server, _serve
from tests.pg import PgServer, free_port


def _snoozable(api: Api, team_id: str) -> str:
    inbox = api.ok("POST", f"/teams/{team_id}/inboxes", 201, json={"name": "Support"})
    conv = api.ok(
        "POST",
        "/conversations",
        201,
        json={"type": "task", "subject": "Call back Mr. Decker", "inbox_id": inbox["id"]},
    )
    return str(conv["id"])


def _wait_for_status(api: Api, conv: str, status: str, seconds: float = 10.0) -> dict[str, Any]:
    deadline = time.monotonic() + seconds
    while True:
        got: dict[str, Any] = api.ok("GET", f"/conversations/{conv}")
        if got["status"] == status or time.monotonic() > deadline:
            return got
        time.sleep(0.1)


def test_a_reminder_snoozes_with_a_waiting_status(dunder_mifflin: Company) -> None:
    api = dunder_mifflin.api
    statuses = {s["category"]: s["id"] for s in api.ok("GET", "/company/statuses")["_results"]}
    conv = _snoozable(api, dunder_mifflin.team_id)
    path = f"/conversations/{conv}"
    later = round(time.time()) + 3600
    body = {"teammate_id": dunder_mifflin.admin_id, "scheduled_at": later}
    bad = {**body, "status_id": statuses["open"]}
    assert api.patch(f"{path}/reminders", json=bad).status_code == 400
    assert api.patch(f"{path}/reminders", json={**body, "scheduled_at": 5}).status_code == 400
    assert (
        api.patch(f"{path}/reminders", json={"teammate_id": dunder_mifflin.admin_id}).status_code
        == 400
    )
    assert api.ok("GET", path)["status"] == "unassigned"
    api.ok("PATCH", f"{path}/reminders", 204, json=body)
    got = api.ok("GET", path)
    assert got["status"] == "archived" and got["status_category"] == "waiting"
    assert got["status_id"] == statuses["waiting"]
    assert [r["scheduled_at"] for r in got["scheduled_reminders"]] == [later]
    # Setting it again reschedules the one reminder of this teammate.
    api.ok("PATCH", f"{path}/reminders", 204, json={**body, "scheduled_at": later + 60})
    got = api.ok("GET", path)
    assert [r["scheduled_at"] for r in got["scheduled_reminders"]] == [later + 60]
    api.ok("PATCH", f"{path}/reminders", 204, json={**body, "scheduled_at": None})
    assert api.ok("GET", path)["scheduled_reminders"] == []


def test_a_due_reminder_reopens_the_conversation(dunder_mifflin: Company) -> None:
    api = dunder_mifflin.api
    conv = _snoozable(api, dunder_mifflin.team_id)
    path = f"/conversations/{conv}"
    api.ok(
        "PATCH",
        f"{path}/reminders",
        204,
        json={"teammate_id": dunder_mifflin.admin_id, "scheduled_at": time.time() + 1},
    )
    assert api.ok("GET", path)["status"] == "archived"
    got = _wait_for_status(api, conv, "unassigned")
    assert got["status"] == "unassigned" and got["scheduled_reminders"] == []
    [event] = [e for e in api.all_pages(f"{path}/events") if e["type"] == "reminder"]
    assert event["source"]["_meta"]["type"] == "reminder"
    assert event["conversation"]["id"] == conv


@pytest.fixture
def lonely_database(server: Server, request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A database of its own, that no running server watches."""
    if server.backend == "postgresql":
        pg: PgServer = request.getfixturevalue("pg_server")
        url = pg.create_database("porch_" + uuid.uuid4().hex[:12])
    else:
        url = f"sqlite:///{tmp_path / 'porch.db'}"
    migrate.upgrade(url)
    return url


def test_a_reminder_due_while_no_server_ran_fires_at_startup(
    lonely_database: str, tmp_path: Path
) -> None:
    settings = config.Settings(data_dir=tmp_path, database_url=lonely_database)

    async def setup() -> companies.NewCompany:
        db = await connect(lonely_database, pool_size=1)
        try:
            return await companies.do_create_company(
                db,
                name="Michael Scott Paper Company",
                admin_email="michael@mspc.com",
                rate_limit_per_minute=100_000,
            )
        finally:
            await db.close()

    new = asyncio.run(setup())
    admin = ids.encode(ids.TEAMMATE, new.teammate_id)
    port = free_port()
    first, thread = _serve(Porch(settings), port)
    api = Api(f"http://127.0.0.1:{port}", new.token)
    try:
        conv = _snoozable(api, ids.encode(ids.TEAM, new.team_id))
        due = time.time() + 1
        api.ok(
            "PATCH",
            f"/conversations/{conv}/reminders",
            204,
            json={"teammate_id": admin, "scheduled_at": due},
        )
    finally:
        api.close()
        first.should_exit = True
        thread.join(timeout=10)
    assert not thread.is_alive()
    time.sleep(max(0.0, due - time.time()) + 0.3)

    async def state() -> str:
        db = await connect(lonely_database, pool_size=1)
        try:
            found = await conversations_store.get(
                db, company_id=new.company_id, key=ids.decode(ids.CONVERSATION, conv) or 0
            )
            assert found is not None
            return found.state
        finally:
            await db.close()

    # Due, but nobody ran to fire it.
    assert asyncio.run(state()) == "archived"
    port = free_port()
    second, thread = _serve(Porch(settings), port)
    api = Api(f"http://127.0.0.1:{port}", new.token)
    try:
        got = _wait_for_status(api, conv, "unassigned")
        assert got["status"] == "unassigned"
        kinds = [e["type"] for e in api.all_pages(f"/conversations/{conv}/events")]
        assert kinds.count("reminder") == 1
    finally:
        api.close()
        second.should_exit = True
        thread.join(timeout=10)
