"""The SDK's pacing and retries against a real Porch: 429s retried after ``retry-after``,
requests held back at the reserve (and never refused for it), concurrent async calls sharing
one budget, 502/503/504 from a proxy in front, and a server that is down, then up."""

from __future__ import annotations

import asyncio
import dataclasses
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest

from porch.app import Porch
from porch.client import AsyncClient, Client, RateLimited, ServerError, TransportError
from tests.clients import FlakyProxy, Seen, async_client_of, client_of, token_of
from tests.conftest import Company, Server, _serve
from tests.pg import free_port


def fresh_window(needed: float) -> None:
    """Wait for the next minute (Porch's budget window) if fewer than ``needed`` seconds of
    this one are left, so that a test's requests land in the window it expects."""
    left = 60 - time.time() % 60
    if left < needed:
        time.sleep(left + 0.2)


def wait_until(cond: Callable[[], bool], seconds: float = 20.0) -> None:
    deadline = time.monotonic() + seconds
    while not cond():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def set_budget(company: Company, **settings: Any) -> None:
    company.api.ok("PATCH", "/porch/company", json=settings)


def test_burst_429_is_retried_after_retry_after(dunder_mifflin: Company) -> None:
    # Front's tier 2: 5 requests a second per channel for incoming messages.
    set_budget(dunder_mifflin, rate_limit_burst=True)
    client, seen = client_of(dunder_mifflin)
    with client:
        inbox = client.inboxes.create(name="Chat", team_id=dunder_mifflin.team_id)
        client.inboxes.create_channel(inbox["id"], type="custom")
        (channel,) = client.inboxes.channels(inbox["id"])
        start = len(seen.seen)
        began = time.monotonic()
        accepted = [
            client.channels.incoming_message(
                channel["id"], sender_handle=f"fan{i}@example.com", body=f"hi {i}"
            )
            for i in range(12)
        ]
        took = time.monotonic() - began
    assert all(a["status"] == "accepted" for a in accepted)
    posts = seen.seen[start:]
    refused = [s for s in posts if s.status == 429]
    assert refused, "the burst limit was never hit"
    assert all(s.headers["x-front-tier"] == "tier2" for s in refused)
    assert all(s.headers["retry-after"] == "1" for s in refused)
    assert [s.status for s in posts].count(202) == 12
    # 12 at 5 a second span at least three of the limiter's one-second windows, which are
    # aligned to the clock: the first may end at once, the second lasts a whole second.
    assert took >= 1.0
    # Each retry came at least retry-after (1 s, rounded up by the server) after its refusal.
    for s, after in zip(posts, posts[1:], strict=False):
        if s.status == 429:
            assert after.at - s.at >= 0.9


def test_a_wait_longer_than_max_wait_raises_rate_limited(dunder_mifflin: Company) -> None:
    fresh_window(5)
    set_budget(dunder_mifflin, rate_limit_per_minute=3)
    for _ in range(10):
        if dunder_mifflin.api.get("/me").status_code == 429:
            break
    client, seen = client_of(dunder_mifflin, max_wait=0.5)
    with client, pytest.raises(RateLimited) as refused:
        client.me()
    assert refused.value.status == 429 and refused.value.tier is None
    assert refused.value.retry_after is not None and refused.value.retry_after >= 1
    assert seen.statuses() == [429]
    assert client.rate_limit.limit == 3 and client.rate_limit.remaining == 0


def _paced_and_refused(company: Company) -> None:
    """The sync client stops at its reserve until the reset, without a 429; a second client,
    which knows nothing yet, meets the 429 and waits out ``retry-after``."""
    set_budget(company, rate_limit_per_minute=10)
    paced, paced_seen = client_of(company, reserve=0.3)  # keeps 3 of 10 unused
    fresh, fresh_seen = client_of(company, reserve=0.0)
    with paced, fresh:
        thread = threading.Thread(target=lambda: [paced.me() for _ in range(8)])
        thread.start()
        # The paced client holds back once the server reports 3 left.
        wait_until(lambda: paced.rate_limit.remaining == 3)
        time.sleep(0.3)
        assert paced.rate_limit.remaining == 3 and len(paced_seen.seen) == 6
        first_reset = paced_seen.seen[0].reset
        assert first_reset is not None and time.time() < first_reset
        # Someone else spends the reserve; the server then refuses the company.
        codes = [company.api.get("/me").status_code for _ in range(4)]
        assert codes == [200, 200, 200, 429]
        assert fresh.me()["id"] == company.id
        thread.join(timeout=90)
        assert not thread.is_alive()
    assert paced_seen.statuses() == [200] * 8
    in_first = [s for s in paced_seen.seen if s.reset == first_reset]
    assert len(in_first) == 6 and min(s.remaining or 0 for s in in_first) == 3
    assert all(s.at >= first_reset for s in paced_seen.seen[6:])
    refusal, retry = fresh_seen.seen
    assert (refusal.status, retry.status) == (429, 200)
    assert retry.at - refusal.at >= int(refusal.headers["retry-after"]) - 1
    assert retry.at >= first_reset


def _concurrent(company: Company, failures: list[BaseException]) -> None:
    """Twenty concurrent calls of one async client on a budget of 15 keeping 3 in reserve:
    those the first window can take go, the rest wait for the next, and none is refused."""

    async def go() -> list[Seen]:
        client, seen = async_client_of(company, reserve=0.2)
        async with client:
            answers = await asyncio.gather(*(client.me() for _ in range(20)))
        assert [a["id"] for a in answers] == [company.id] * 20
        return seen.seen

    try:
        set_budget(company, rate_limit_per_minute=15)
        seen = asyncio.run(go())
        assert [s.status for s in seen] == [200] * 20
        first_reset = seen[0].reset
        in_first = [s for s in seen if s.reset == first_reset]
        # The PATCH took one; 3 stay unused.
        assert 1 <= len(in_first) <= 15 - 1 - 3
        assert min(s.remaining or 0 for s in in_first) >= 3
        assert first_reset is not None and all(s.at >= first_reset for s in seen[len(in_first) :])
    except BaseException as exc:
        failures.append(exc)


def test_pacing_across_a_window(
    server: Server, dunder_mifflin: Company, vance_refrigeration: Company
) -> None:
    """Both scenarios wait for Porch's minute window to turn, so they run side by side (on two
    companies, two budgets) to share one wait. The client's pacing does not depend on the
    database, and a window costs up to a minute: one backend is enough."""
    if server.backend != "sqlite":
        pytest.skip("pacing is the client's; one backend is enough for minute-long waits")
    fresh_window(15)
    failures: list[BaseException] = []
    other = threading.Thread(target=_concurrent, args=(vance_refrigeration, failures))
    other.start()
    try:
        _paced_and_refused(dunder_mifflin)
    finally:
        other.join(timeout=120)
    if failures:
        raise failures[0]


def test_502_503_504_are_retried_for_idempotent_calls(dunder_mifflin: Company) -> None:
    proxy = FlakyProxy(dunder_mifflin.server.url, [502, 503, 504])
    try:
        with Client(proxy.url, token_of(dunder_mifflin), backoff=0.05) as client:
            assert list(client.tags.list()) == []
            assert proxy.methods == ["GET"] * 4
            # A POST may have been done before the proxy failed: not retried by default.
            proxy.failures = [502]
            with pytest.raises(ServerError) as bad_gateway:
                client.tags.create(name="Once")
            assert bad_gateway.value.status == 502
            assert "Bad Gateway" in bad_gateway.value.message  # the proxy's page, not JSON
            # ... unless the call says it may be.
            proxy.failures = [503, 503]
            made = client.request("POST", "/company/tags", json={"name": "Once"}, retry_unsafe=True)
            assert made["name"] == "Once"
            assert proxy.methods[-4:] == ["POST", "POST", "POST", "POST"]
        with Client(proxy.url, token_of(dunder_mifflin), backoff=0.05, max_retries=2) as client:
            proxy.failures = [503] * 3
            with pytest.raises(ServerError) as unavailable:
                client.me()
            assert unavailable.value.status == 503
    finally:
        proxy.close()


def test_async_client_retries_through_the_proxy(dunder_mifflin: Company) -> None:
    proxy = FlakyProxy(dunder_mifflin.server.url, [503, 502])

    async def go() -> None:
        async with AsyncClient(proxy.url, token_of(dunder_mifflin), backoff=0.05) as client:
            assert (await client.me())["id"] == dunder_mifflin.id

    try:
        asyncio.run(go())
        assert proxy.methods == ["GET"] * 3
    finally:
        proxy.close()


def test_a_server_down_then_up(server: Server, dunder_mifflin: Company) -> None:
    """Nothing listens, then a Porch starts on the port: the call (a POST, never sent while
    the connection was refused) goes through; once it stops, calls fail as TransportError."""
    down_port = free_port()
    url = f"http://127.0.0.1:{down_port}"
    settings = dataclasses.replace(server.settings, smtp_port=None)
    started: list[Any] = []

    def start_later() -> None:
        time.sleep(0.5)
        started.append(_serve(Porch(settings), down_port))

    starter = threading.Thread(target=start_later)
    with Client(url, token_of(dunder_mifflin), backoff=0.2, max_retries=8) as client:
        began = time.monotonic()
        starter.start()
        try:
            tag = client.tags.create(name="Patience")
            assert time.monotonic() - began >= 0.5
            assert client.tags.get(tag["id"])["name"] == "Patience"
        finally:
            starter.join()
            srv, thread = started[0]
            srv.should_exit = True
            thread.join(timeout=10)
    with Client(url, token_of(dunder_mifflin), backoff=0.01, max_retries=2) as client:
        with pytest.raises(TransportError) as down:
            client.me()
        assert down.value.__cause__ is not None
