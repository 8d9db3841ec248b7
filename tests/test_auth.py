"""Authentication, permissions and namespaces, and the envelope of every refusal."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.conftest import Api, Company

RATE_HEADERS = ("x-ratelimit-limit", "x-ratelimit-remaining", "x-ratelimit-reset")


def assert_envelope(resp: httpx.Response, status: int) -> dict[str, Any]:
    assert resp.status_code == status, resp.text
    error = resp.json()["_error"]
    assert error["status"] == status and error["message"]
    for name in RATE_HEADERS:
        assert name in resp.headers, name
    return dict(error)


@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        "Bearer",
        "Bearer  x",
        "Basic dXNlcjpwYXNz",
        "porch_abcdef",
        "Bearer porch_not-a-real-token",
        "Token porch_abcdef",
    ],
)
def test_missing_malformed_or_unknown_tokens_are_401(
    dunder_mifflin: Company, header: str | None
) -> None:
    client = dunder_mifflin.client(None)
    headers = {"Authorization": header} if header is not None else {}
    for method, path in (("GET", "/me"), ("GET", "/tags"), ("POST", "/company/tags")):
        resp = client.request(method, path, headers=headers, json={"name": "x"})
        assert_envelope(resp, 401)
    assert dunder_mifflin.api.ok("GET", "/company/tags")["_results"] == []


def test_revoked_token_is_401_at_once(dunder_mifflin: Company) -> None:
    secret = dunder_mifflin.token(namespaces=["shared"])
    client = dunder_mifflin.client(secret)
    client.ok("GET", "/me")
    listed = dunder_mifflin.api.ok("GET", "/porch/tokens")["_results"]
    token_id = next(t["id"] for t in listed if t["revoked_at"] is None and t["name"] == "test")
    dunder_mifflin.api.ok("DELETE", f"/porch/tokens/{token_id}", 204)
    error = assert_envelope(client.get("/me"), 401)
    assert error["title"] == "Unauthorized"
    assert_envelope(client.post("/company/tags", json={"name": "x"}), 401)
    assert dunder_mifflin.api.ok("GET", "/company/tags")["_results"] == []


def test_a_token_of_another_company_does_not_reach_this_one(
    dunder_mifflin: Company, vance_refrigeration: Company
) -> None:
    tag = dunder_mifflin.api.ok("POST", "/company/tags", 201, json={"name": "Paper"})
    assert_envelope(vance_refrigeration.api.get(f"/tags/{tag['id']}"), 404)
    me = vance_refrigeration.api.ok("GET", "/me")
    assert me["id"] == vance_refrigeration.id != dunder_mifflin.id


def test_missing_permissions_are_403(dunder_mifflin: Company) -> None:
    tag = dunder_mifflin.api.ok("POST", "/company/tags", 201, json={"name": "Keep"})
    reader = dunder_mifflin.client(dunder_mifflin.token(permissions=["read"]))
    reader.ok("GET", f"/tags/{tag['id']}")
    assert_envelope(reader.post("/company/tags", json={"name": "Nope"}), 403)
    assert_envelope(reader.patch(f"/tags/{tag['id']}", json={"name": "Nope"}), 403)
    no_delete = dunder_mifflin.client(dunder_mifflin.token(permissions=["read", "write"]))
    no_delete.ok("PATCH", f"/tags/{tag['id']}", 204, json={"description": "still here"})
    assert_envelope(no_delete.delete(f"/tags/{tag['id']}"), 403)
    names = [t["name"] for t in dunder_mifflin.api.ok("GET", "/company/tags")["_results"]]
    assert names == ["Keep"]


def test_team_token_sees_its_team_only(dunder_mifflin: Company) -> None:
    api = dunder_mifflin.api
    scranton = dunder_mifflin.team_id
    stamford = api.ok("POST", "/porch/teams", 201, json={"name": "Stamford"})["id"]
    ours = api.ok("POST", f"/teams/{scranton}/tags", 201, json={"name": "Scranton leads"})
    theirs = api.ok("POST", f"/teams/{stamford}/tags", 201, json={"name": "Stamford leads"})
    team = dunder_mifflin.client(dunder_mifflin.token(namespaces=[f"team:{scranton}"]))
    team.ok("GET", f"/tags/{ours['id']}")
    assert_envelope(team.get(f"/tags/{theirs['id']}"), 404)
    assert [t["id"] for t in team.all_pages("/tags")] == [ours["id"]]
    assert_envelope(team.get(f"/teams/{stamford}/tags"), 404)
    assert_envelope(team.post(f"/teams/{stamford}/tags", json={"name": "Sneaky"}), 404)
    shown = {t["name"] for t in api.all_pages(f"/teams/{stamford}/tags")}
    assert shown == {"Stamford leads"}


def test_shared_token_cannot_see_private_tags(dunder_mifflin: Company) -> None:
    api = dunder_mifflin.api
    michael = dunder_mifflin.admin_id
    private = api.ok("POST", f"/teammates/{michael}/tags", 201, json={"name": "Dundies"})
    company = api.ok("POST", "/company/tags", 201, json={"name": "Paper"})
    shared = dunder_mifflin.client(dunder_mifflin.token(namespaces=["shared"]))
    assert_envelope(shared.get(f"/tags/{private['id']}"), 404)
    assert [t["id"] for t in shared.all_pages("/tags")] == [company["id"]]
    assert_envelope(shared.get(f"/teammates/{michael}/tags"), 403)


def test_private_token_needs_the_teammates_consent(dunder_mifflin: Company) -> None:
    api = dunder_mifflin.api
    dwight = api.ok(
        "POST",
        "/porch/teammates",
        201,
        json={"email": "dwight@dundermifflin.com", "api_private_access": True},
    )
    beets = api.ok("POST", f"/teammates/{dwight['id']}/tags", 201, json={"name": "Beets"})
    boss = api.ok("POST", f"/teammates/{dunder_mifflin.admin_id}/tags", 201, json={"name": "Boss"})
    private = dunder_mifflin.client(dunder_mifflin.token(namespaces=["private"]))
    private.ok("GET", f"/tags/{beets['id']}")

    # Dwight turns "Allow API access to my private resources" off.
    api.ok("PATCH", f"/porch/teammates/{dwight['id']}", 200, json={"api_private_access": False})
    assert_envelope(private.get(f"/tags/{beets['id']}"), 404)
    assert [t["id"] for t in private.all_pages("/tags")] == [boss["id"]]
    assert_envelope(private.get(f"/teammates/{dwight['id']}/tags"), 403)


def test_me_needs_a_token_but_no_scope(dunder_mifflin: Company) -> None:
    minimal = dunder_mifflin.client(
        dunder_mifflin.token(namespaces=[f"team:{dunder_mifflin.team_id}"], permissions=["send"])
    )
    me = minimal.ok("GET", "/me")
    assert me == {
        "_links": {"self": f"{dunder_mifflin.server.url}/me"},
        "id": dunder_mifflin.id,
        "name": dunder_mifflin.name,
    }
    # The same token lacks read for everything else.
    assert_envelope(minimal.get("/tags"), 403)
    assert_envelope(dunder_mifflin.client(None).get("/me"), 401)


def test_healthz_needs_no_token(dunder_mifflin: Company) -> None:
    resp = dunder_mifflin.client(None).get("/healthz")
    assert resp.status_code == 200 and resp.json() == {"status": "ok"}
    for name in RATE_HEADERS:
        assert name in resp.headers


def test_unknown_routes_and_methods(api: Api) -> None:
    assert_envelope(api.get("/no/such/route"), 404)
    assert_envelope(api.get("/porch/nothing"), 404)
    resp = api.put("/tags", json={})
    assert_envelope(resp, 405)
    assert set(resp.headers["allow"].split(", ")) == {"GET", "POST"}
    anonymous = Api(api.base_url, None)
    try:
        # Routing comes first: an unknown route is a 404 even without a token.
        assert_envelope(anonymous.get("/no/such/route"), 404)
        assert_envelope(anonymous.delete("/me"), 405)
    finally:
        anonymous.close()


def test_forwarded_proto_and_host_make_the_links(api: Api) -> None:
    headers = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "porch.dundermifflin.com"}
    me = api.ok("GET", "/me", headers=headers)
    assert me["_links"]["self"] == "https://porch.dundermifflin.com/me"
    tag = api.ok("POST", "/company/tags", 201, json={"name": "Linked"}, headers=headers)
    assert tag["_links"]["self"] == f"https://porch.dundermifflin.com/tags/{tag['id']}"
    for i in range(2):
        api.ok("POST", "/company/tags", 201, json={"name": f"more {i}"})
    page = api.ok("GET", "/tags", params={"limit": 1}, headers=headers)
    assert page["_pagination"]["next"].startswith("https://porch.dundermifflin.com/tags?")
    # Without the headers, links name the address the client used.
    assert api.ok("GET", "/me")["_links"]["self"] == f"{api.base_url}/me"
