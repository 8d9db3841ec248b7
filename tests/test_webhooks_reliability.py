"""Webhook delivery under failure, against a real ``porch worker`` process (SQLite only; these
take minutes): the receiver down for a while, then answering 500, then well; the worker killed
with SIGKILL mid-delivery again and again; a subscription disabled after a run of failures and
enabled again. Nothing is lost, each conversation's events arrive in order, a duplicate is the
same event, and the delivery log shows every attempt."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path
from typing import IO, Any

import pytest

from porch import config
from porch.app import Porch
from porch.domain import companies
from porch.store import migrate
from porch.store.db import connect
from tests.conftest import Api, _serve
from tests.pg import free_port
from tests.webhook_receiver import Hit, Receiver, app_signature_ok

# NOTES §7 / the issue: the receiver is down for about a minute.
DOWN_SECONDS = float(os.environ.get("PORCH_TEST_WEBHOOK_DOWN_SECONDS", "60"))


@dataclass
class Setup:
    api: Api
    settings: config.Settings
    log: IO[bytes]  # the workers' log, for when a test fails

    def worker(self, **env: str) -> subprocess.Popen[bytes]:
        """A ``porch worker`` process on the same database, with small backoff settings."""
        full = {
            **os.environ,
            "PORCH_DATABASE_URL": self.settings.database_url,
            "PORCH_DATA_DIR": str(self.settings.data_dir),
            "PORCH_WEBHOOK_BACKOFF_SECONDS": "0.2",
            "PORCH_WEBHOOK_MAX_BACKOFF_SECONDS": "2",
            "PORCH_WEBHOOK_LEASE_SECONDS": "6",
            "PORCH_WEBHOOK_DISABLE_AFTER": "100000",
            "PORCH_WEBHOOK_POLL_SECONDS": "0.05",
            "PORCH_CONSUMER_POLL_SECONDS": "0.05",
            **env,
        }
        return subprocess.Popen(
            [sys.executable, "-c", "from porch.cli.main import main; main()", "worker"],
            env=full,
            stdout=subprocess.DEVNULL,
            stderr=self.log,
        )


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Setup]:
    data_dir = Path(tmp_path_factory.mktemp("porch-webhooks"))
    url = f"sqlite:///{data_dir / 'porch.db'}"
    migrate.upgrade(url)
    settings = config.Settings(data_dir=data_dir, database_url=url, run_workers=False)

    async def create() -> companies.NewCompany:
        db = await connect(url, pool_size=1)
        try:
            return await companies.do_create_company(
                db,
                name="Dunder Mifflin",
                admin_email="michael@dundermifflin.com",
                rate_limit_per_minute=100_000,
            )
        finally:
            await db.close()

    new = asyncio.run(create())
    port = free_port()
    srv, thread = _serve(Porch(replace(settings, smtp_port=None)), port)
    api = Api(f"http://127.0.0.1:{port}", new.token)
    api.ok("PATCH", "/porch/company", json={"allow_private_webhook_targets": True})
    with (data_dir / "worker.log").open("ab") as log:
        yield Setup(api, settings, log)
    api.close()
    srv.should_exit = True
    thread.join(timeout=10)


def _team(setup: Setup) -> str:
    return str(setup.api.ok("GET", "/teams")["_results"][0]["id"])


def _events(setup: Setup, n_convs: int, per_conv: int, tag: str) -> dict[str, list[str]]:
    """``per_conv`` tag/untag events on each of ``n_convs`` new shared conversations,
    interleaved; conversation id -> its event ids in order."""
    api = setup.api
    inbox = api.ok("POST", f"/teams/{_team(setup)}/inboxes", 201, json={"name": f"I {tag}"})
    convs = [
        api.ok(
            "POST",
            "/conversations",
            201,
            json={"type": "task", "subject": f"c{i}", "inbox_id": inbox["id"]},
        )["id"]
        for i in range(n_convs)
    ]
    for step in range(per_conv):
        for conv in convs:
            if step % 2 == 0:
                api.ok("POST", f"/conversations/{conv}/tags", 204, json={"tag_ids": [tag]})
            else:
                api.ok("DELETE", f"/conversations/{conv}/tags", 204, json={"tag_ids": [tag]})
    out: dict[str, list[str]] = {}
    for conv in convs:
        evs = api.all_pages(f"/conversations/{conv}/events")
        out[conv] = sorted((e["id"] for e in evs if e["type"] in ("tag", "untag")), key=_event_key)
    return out


def _more_than(seen: int, hits: list[Hit]) -> bool:
    return len(hits) > seen


def _event_key(eid: str) -> int:
    return int(eid.split("_", 1)[1], 36)


def _app(setup: Setup, url: str) -> dict[str, Any]:
    return setup.api.ok(  # type: ignore[no-any-return]
        "POST",
        "/porch/applications",
        201,
        json={
            "name": "Reliable",
            "webhook_url": url,
            "subscriptions": ["tag_added", "tag_removed"],
        },
    )


def _attempted(setup: Setup, app: dict[str, Any]) -> bool:
    log = setup.api.ok(
        "GET",
        "/porch/webhooks/deliveries",
        params={"subscription_id": app["webhook_subscription_id"], "limit": 100},
    )["_results"]
    return any(d["attempts"] for d in log)


def _check(expected: dict[str, list[str]], hits: list[Hit], secret: str) -> None:
    """Every event arrived; per conversation the first arrivals are in event order; every copy
    of an event is the same bytes, signed."""
    first: dict[str, list[str]] = {}
    bodies: dict[str, bytes] = {}
    for h in hits:
        assert app_signature_ok(secret, h)
        env = h.json()
        eid, conv = env["payload"]["id"], env["payload"]["conversation"]["id"]
        if eid in bodies:
            assert bodies[eid] == h.body, "a duplicate is the same delivery"
            continue
        bodies[eid] = h.body
        first.setdefault(conv, []).append(eid)
    assert first == expected


def _wait_all(receiver: Receiver, expected: dict[str, list[str]], seconds: float) -> list[Hit]:
    want = {e for evs in expected.values() for e in evs}
    return receiver.wait(lambda hs: want <= {h.json()["payload"]["id"] for h in hs}, seconds)


def test_outage_then_errors_then_recovery_loses_nothing(setup: Setup) -> None:
    receiver = Receiver()
    port, url = receiver.port, receiver.url
    app = _app(setup, url)
    receiver.close()  # down: connections refused
    tag = setup.api.ok("POST", "/company/tags", 201, json={"name": "outage"})["id"]
    worker = setup.worker()
    try:
        expected = _events(setup, n_convs=4, per_conv=6, tag=tag)
        time.sleep(DOWN_SECONDS)
        # However slowly the worker started, it has met the closed port before the endpoint
        # comes back.
        deadline = time.monotonic() + 60
        while not _attempted(setup, app) and time.monotonic() < deadline:
            time.sleep(0.2)
        receiver = Receiver(port)
        receiver.status = 500
        time.sleep(8)
        assert receiver.events(), "the worker kept trying while the endpoint failed"
        receiver.status = 200
        hits = _wait_all(receiver, expected, seconds=60)
        _check(expected, [h for h in hits if h.headers.get("x-front-signature")], app["secret"])
        # The delivery log shows the refused connections and the 500s before the success.
        log = setup.api.ok(
            "GET",
            "/porch/webhooks/deliveries",
            params={"subscription_id": app["webhook_subscription_id"], "limit": 100},
        )["_results"]
        attempts = [a for d in log for a in d["attempts"]]
        assert any(a["status_code"] is None and a["error"] for a in attempts), attempts[:5]
        assert any(a["status_code"] == 500 for a in attempts)
        assert all(d["state"] == "delivered" for d in log)
    finally:
        worker.kill()
        worker.wait()
        receiver.close()
        setup.api.ok("DELETE", f"/porch/applications/{app['uid']}", 204)


def test_sigkilled_worker_loses_nothing(setup: Setup) -> None:
    receiver = Receiver()
    receiver.delay = 0.2  # deliveries are in flight when the worker dies
    app = _app(setup, receiver.url)
    tag = setup.api.ok("POST", "/company/tags", 201, json={"name": "kill"})["id"]
    expected = _events(setup, n_convs=6, per_conv=6, tag=tag)
    want = {e for evs in expected.values() for e in evs}
    kills = 0
    try:
        for round_ in range(4):
            if want <= {h.json()["payload"]["id"] for h in receiver.events()}:
                break  # everything is through already: no delivery left to interrupt
            worker = setup.worker(PORCH_WEBHOOK_LEASE_SECONDS="2")
            # Once this worker is delivering, kill it with POSTs in flight.
            seen = len(receiver.events())
            receiver.wait(partial(_more_than, seen), seconds=60)
            time.sleep(0.3 + 0.2 * round_)
            worker.send_signal(signal.SIGKILL)
            worker.wait()
            kills += 1
        assert kills >= 2, "the workers were killed mid-delivery more than once"
        worker = setup.worker(PORCH_WEBHOOK_LEASE_SECONDS="2")
        hits = _wait_all(receiver, expected, seconds=90)
        _check(expected, hits, app["secret"])
    finally:
        worker.kill()
        worker.wait()
        receiver.close()
        setup.api.ok("DELETE", f"/porch/applications/{app['uid']}", 204)


def test_auto_disable_and_enable_again(setup: Setup) -> None:
    receiver = Receiver()
    app = _app(setup, receiver.url)
    receiver.status = 500
    tag = setup.api.ok("POST", "/company/tags", 201, json={"name": "disable"})["id"]
    worker = setup.worker(PORCH_WEBHOOK_DISABLE_AFTER="3")
    try:
        expected = _events(setup, n_convs=2, per_conv=2, tag=tag)
        deadline = time.monotonic() + 30
        while True:
            got = setup.api.ok("GET", f"/porch/applications/{app['uid']}")
            if got["state"] == "disabled" or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        assert got["state"] == "disabled"
        assert "3 failed deliveries in a row" in got["disabled_reason"]
        assert "500" in got["disabled_reason"]
        [sub] = [
            s
            for s in setup.api.ok("GET", "/porch/webhooks/subscriptions")["_results"]
            if s["id"] == app["webhook_subscription_id"]
        ]
        assert sub["state"] == "disabled"
        seen = len(receiver.events())
        time.sleep(1.5)
        assert len(receiver.events()) == seen, "a disabled subscription gets nothing"
        receiver.status = 200
        setup.api.ok("PATCH", f"/porch/applications/{app['uid']}", json={"state": "enabled"})
        hits = _wait_all(receiver, expected, seconds=30)
        _check(expected, hits, app["secret"])
    finally:
        worker.kill()
        worker.wait()
        receiver.close()
        setup.api.ok("DELETE", f"/porch/applications/{app['uid']}", 204)
