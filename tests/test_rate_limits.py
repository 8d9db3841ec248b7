"""Rate limits: headers on every response, per-company budgets, and one budget across processes."""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import pytest

from porch.app import Porch
from tests.conftest import Api, Company, Server, _serve
from tests.pg import free_port

HEADERS = ("x-ratelimit-limit", "x-ratelimit-remaining", "x-ratelimit-reset")
STARTER = 50


def fresh_window() -> None:
    """Wait for the next minute if this one ends within a few seconds (bounded: at most ~6 s),
    so that every request of a test falls in one fixed window."""
    left = 60 - time.time() % 60
    if left < 6:
        time.sleep(left + 0.2)


def starter(company: Company) -> None:
    """Put ``company`` on Front's Starter plan (50 requests a minute)."""
    settings = company.api.ok("PATCH", "/porch/company", json={"rate_limit_preset": "starter"})
    assert settings["rate_limit_per_minute"] == STARTER


def test_headers_on_every_response(dunder_mifflin: Company) -> None:
    api = dunder_mifflin.api
    responses = [
        api.get("/me"),
        api.post("/company/tags", json={"name": "x"}),
        api.post("/company/tags", json={"name": ""}),
        api.get("/tags/tag_zzzzzz"),
        api.get("/no/such/route"),
        dunder_mifflin.client(None).get("/me"),
        dunder_mifflin.client(None).get("/healthz"),
    ]
    for resp in responses:
        for name in HEADERS:
            assert name in resp.headers, (resp.request.url, name)
        assert float(resp.headers["x-ratelimit-reset"]) >= 0
    counted = responses[0]
    assert int(counted.headers["x-ratelimit-limit"]) == 100_000
    assert int(counted.headers["x-ratelimit-remaining"]) < 100_000
    assert float(counted.headers["x-ratelimit-reset"]) > time.time()


def test_remaining_counts_down(dunder_mifflin: Company) -> None:
    fresh_window()
    starter(dunder_mifflin)
    seen = [int(dunder_mifflin.api.get("/me").headers["x-ratelimit-remaining"]) for _ in range(3)]
    assert seen[0] - seen[1] == 1 and seen[1] - seen[2] == 1
    assert seen[0] < STARTER


def test_starter_plan_refuses_the_51st_request_in_a_minute(dunder_mifflin: Company) -> None:
    fresh_window()
    starter(dunder_mifflin)  # the first request of this minute on the new plan's budget
    api = dunder_mifflin.api
    statuses = []
    last = None
    for _ in range(STARTER):
        last = api.get("/me")
        statuses.append(last.status_code)
    assert statuses[: STARTER - 1] == [200] * (STARTER - 1)
    assert last is not None and last.status_code == 429
    assert last.json()["_error"]["status"] == 429
    assert last.headers["x-ratelimit-remaining"] == "0"
    assert last.headers["x-ratelimit-limit"] == str(STARTER)
    retry = int(last.headers["retry-after"])
    assert 1 <= retry <= 60
    assert "x-front-tier" not in last.headers
    # Every route of the company is refused, writes included, and nothing is written.
    assert api.post("/company/tags", json={"name": "late"}).status_code == 429
    assert api.get("/tags").status_code == 429


def test_limits_are_per_company_not_per_token(
    dunder_mifflin: Company, vance_refrigeration: Company
) -> None:
    fresh_window()
    starter(dunder_mifflin)
    other_token = dunder_mifflin.client(dunder_mifflin.token(namespaces=["shared"]))
    codes = [dunder_mifflin.api.get("/me").status_code for _ in range(20)]
    codes += [other_token.get("/me").status_code for _ in range(40)]
    assert codes.count(200) == STARTER - 2  # the PATCH and the token creation counted too
    assert codes[-1] == 429
    assert dunder_mifflin.api.get("/me").status_code == 429
    # The company across the hall is unaffected.
    resp = vance_refrigeration.api.get("/me")
    assert resp.status_code == 200
    assert int(resp.headers["x-ratelimit-remaining"]) > STARTER


def test_a_lower_limit_applies_within_the_minute(dunder_mifflin: Company) -> None:
    fresh_window()
    api = dunder_mifflin.api
    for _ in range(30):
        api.ok("GET", "/me")
    # 31 requests (with the PATCH) counted on the generous default: the new plan leaves 19.
    starter(dunder_mifflin)
    codes = [api.get("/me").status_code for _ in range(25)]
    assert codes.count(200) == STARTER - 31
    assert codes[-1] == 429


def test_burst_tiers_spare_operations_that_declare_none(dunder_mifflin: Company) -> None:
    fresh_window()
    starter(dunder_mifflin)  # presets switch Front's burst tiers on
    assert dunder_mifflin.api.ok("GET", "/porch/company")["rate_limit_burst"] is True
    tag = dunder_mifflin.api.ok("POST", "/company/tags", 201, json={"name": "Hot"})
    # Tier 2 would allow 5 a second on one resource; no tag operation is in a burst tier.
    codes = [dunder_mifflin.api.get(f"/tags/{tag['id']}").status_code for _ in range(12)]
    assert codes == [200] * 12


@pytest.fixture
def second_server(server: Server) -> Iterator[str]:
    """Another Porch process (its own pools, caches and leases) on the same database."""
    port = free_port()
    srv, thread = _serve(Porch(server.settings), port)
    yield f"http://127.0.0.1:{port}"
    srv.should_exit = True
    thread.join(timeout=10)


def test_two_processes_share_one_budget(dunder_mifflin: Company, second_server: str) -> None:
    fresh_window()
    token = dunder_mifflin.api.http.headers["Authorization"].split(" ", 1)[1]
    elsewhere = Api(second_server, token)
    try:
        starter(dunder_mifflin)
        here = dunder_mifflin.api
        granted = 1  # the PATCH
        refused = 0
        for i in range(80):
            resp = (here if i % 2 else elsewhere).get("/me")
            assert resp.status_code in (200, 429), resp.text
            granted += resp.status_code == 200
            refused += resp.status_code == 429
        assert granted == STARTER
        assert refused == 80 - (STARTER - 1)
        # Both processes refuse now, whichever is asked.
        assert elsewhere.get("/me").status_code == 429
        assert here.get("/me").status_code == 429
    finally:
        elsewhere.close()


def test_the_second_process_reports_the_shared_count(
    dunder_mifflin: Company, second_server: str
) -> None:
    fresh_window()
    starter(dunder_mifflin)
    for _ in range(10):
        dunder_mifflin.api.ok("GET", "/me")
    token = dunder_mifflin.api.http.headers["Authorization"].split(" ", 1)[1]
    with httpx.Client(base_url=second_server, timeout=30) as client:
        resp = client.get("/me", headers={"Authorization": f"Bearer {token}"})
    assert resp.status_code == 200
    assert int(resp.headers["x-ratelimit-remaining"]) == STARTER - 12
