"""Tags through the API: company, team, private and child tags; paging; updates; deletes."""

from __future__ import annotations

from tests.conftest import Api, Company


def test_create_company_tag_then_get_it(api: Api) -> None:
    created = api.ok("POST", "/company/tags", 201, json={"name": "Urgent", "highlight": "red"})
    assert created["id"].startswith("tag_")
    assert created["highlight"] == "red" and created["is_private"] is False
    fetched = api.ok("GET", f"/tags/{created['id']}")
    assert fetched == created
    assert created["_links"]["self"].endswith(f"/tags/{created['id']}")


def test_list_tags_pages_by_keyset_and_survives_deletes(api: Api) -> None:
    made = [api.ok("POST", "/company/tags", 201, json={"name": f"t{i}"})["id"] for i in range(7)]
    first = api.ok("GET", "/tags", params={"limit": 3})
    assert [t["id"] for t in first["_results"]] == made[:3]
    # Deleting a row already seen must not shift the next page.
    api.ok("DELETE", f"/tags/{made[0]}", 204)
    nxt = first["_pagination"]["next"]
    second = api.ok("GET", nxt[len(api.base_url) :])
    assert [t["id"] for t in second["_results"]] == made[3:6]
    everything = api.all_pages("/tags", limit=2)
    assert [t["id"] for t in everything] == made[1:]


def test_duplicate_tag_name_conflicts(api: Api) -> None:
    api.ok("POST", "/company/tags", 201, json={"name": "VIP"})
    resp = api.post("/company/tags", json={"name": "VIP"})
    assert resp.status_code == 409
    assert resp.json()["_error"]["status"] == 409


def test_child_tags_and_patch_parent(api: Api) -> None:
    parent = api.ok("POST", "/company/tags", 201, json={"name": "Billing"})
    child = api.ok("POST", f"/tags/{parent['id']}/children", 201, json={"name": "Refunds"})
    assert child["_links"]["related"]["parent_tag"].endswith(parent["id"])
    kids = api.ok("GET", f"/tags/{parent['id']}/children")["_results"]
    assert [k["id"] for k in kids] == [child["id"]]
    # A tag cannot become its own grandparent.
    loop = api.patch(f"/tags/{parent['id']}", json={"parent_tag_id": child["id"]})
    assert loop.status_code == 400
    api.ok("PATCH", f"/tags/{child['id']}", 204, json={"parent_tag_id": None, "name": "Refunds 2"})
    assert api.ok("GET", f"/tags/{parent['id']}/children")["_results"] == []
    assert api.ok("GET", f"/tags/{child['id']}")["name"] == "Refunds 2"


def test_deleting_a_parent_deletes_children(api: Api) -> None:
    parent = api.ok("POST", "/company/tags", 201, json={"name": "Shipping"})
    child = api.ok("POST", f"/tags/{parent['id']}/children", 201, json={"name": "Late"})
    api.ok("DELETE", f"/tags/{parent['id']}", 204)
    assert api.get(f"/tags/{child['id']}").status_code == 404


def test_team_tags(dunder_mifflin: Company) -> None:
    api = dunder_mifflin.api
    team = dunder_mifflin.team_id
    tag = api.ok("POST", f"/teams/{team}/tags", 201, json={"name": "Sales leads"})
    assert tag["_links"]["related"]["owner"].endswith(f"/teams/{team}")
    listed = api.ok("GET", f"/teams/{team}/tags")["_results"]
    assert [t["id"] for t in listed] == [tag["id"]]
    assert api.ok("GET", "/company/tags")["_results"] == []
    legacy = api.ok("POST", "/tags", 201, json={"name": "Legacy"})
    assert legacy["_links"]["related"]["owner"].endswith(f"/teams/{team}")


def test_private_tags_need_private_scope_and_consent(dunder_mifflin: Company) -> None:
    api = dunder_mifflin.api
    dwight = api.ok(
        "POST",
        "/porch/teammates",
        201,
        json={"email": "dwight@dundermifflin.com", "api_private_access": False},
    )
    refused = api.post(f"/teammates/{dwight['id']}/tags", json={"name": "Beets"})
    assert refused.status_code == 403
    michael = dunder_mifflin.admin_id
    mine = api.ok("POST", f"/teammates/{michael}/tags", 201, json={"name": "World's best boss"})
    assert mine["is_private"] is True
    shared_only = dunder_mifflin.client(dunder_mifflin.token(namespaces=["shared"]))
    assert shared_only.get(f"/tags/{mine['id']}").status_code == 404
    assert mine["id"] not in [t["id"] for t in shared_only.all_pages("/tags")]


def test_bad_tag_input_changes_nothing(api: Api) -> None:
    before = api.all_pages("/tags")
    for body in (
        {"name": ""},
        {"name": 12},
        {"name": "x" * 65},
        {"name": "a\x00b"},
        {"name": "ok", "highlight": "mauve"},
        {},
    ):
        resp = api.post("/company/tags", json=body)
        assert resp.status_code == 400, body
    resp = api.post(
        "/company/tags", content=b'{"name": "broken"', headers={"content-type": "application/json"}
    )
    assert resp.status_code == 400
    assert api.all_pages("/tags") == before


def test_concurrent_creates_of_one_name_make_one_tag(api: Api) -> None:
    """Two writers racing past the uniqueness check: one tag, the other a 409, never a 500."""
    from concurrent.futures import ThreadPoolExecutor

    def create(_: int) -> int:
        return api.post("/company/tags", json={"name": "Race"}).status_code

    with ThreadPoolExecutor(8) as pool:
        codes = sorted(pool.map(create, range(16)))
    assert codes.count(201) == 1
    assert set(codes) == {201, 409}
    assert [t["name"] for t in api.all_pages("/company/tags")].count("Race") == 1


def test_a_new_tag_has_no_conversations_yet(api: Api) -> None:
    tag = api.ok("POST", "/company/tags", 201, json={"name": "Quiet"})
    body = api.ok("GET", f"/tags/{tag['id']}/conversations", params={"limit": 10})
    assert body["_results"] == [] and body["_pagination"]["next"] is None
    assert api.get("/tags/tag_zzzz/conversations").status_code == 404
