"""Links through the API: create, list, get, rename, and linking them to conversations."""

from __future__ import annotations

from typing import Any

from tests.conftest import Api, Company


def _conversation(company: Company, subject: str = "Paper order") -> dict[str, Any]:
    api = company.api
    inbox = api.ok("POST", f"/teams/{company.team_id}/inboxes", 201, json={"name": subject})
    return dict(
        api.ok(
            "POST",
            "/conversations",
            201,
            json={"type": "task", "subject": subject, "inbox_id": inbox["id"]},
        )
    )


def _events(api: Api, kind: str) -> list[dict[str, Any]]:
    return [e for e in api.all_pages("/porch/events", **{"q[types]": kind})]


def test_create_a_link_then_get_and_rename_it(api: Api) -> None:
    url = "https://dundermifflin.atlassian.net/browse/PB-4567"
    link = api.ok("POST", "/links", 201, json={"external_url": url})
    assert link["id"].startswith("top_")
    assert (link["name"], link["type"], link["external_url"]) == (url, "web", url)
    assert link["custom_fields"] == {}
    assert api.ok("GET", f"/links/{link['id']}") == link
    api.ok("PATCH", f"/links/{link['id']}", 204, json={"name": "PB-4567"})
    assert api.ok("GET", f"/links/{link['id']}")["name"] == "PB-4567"
    assert [e["target"]["data"]["id"] for e in _events(api, "link_updated")] == [link["id"]]
    assert link["id"] in [e["target"]["data"]["id"] for e in _events(api, "link_created")]


def test_creating_an_existing_url_returns_the_existing_link(api: Api) -> None:
    first = api.ok("POST", "/links", 201, json={"external_url": "https://x.test/1", "name": "One"})
    again = api.ok("POST", "/links", 201, json={"external_url": "https://x.test/1", "name": "Two"})
    assert again == first
    assert len(api.all_pages("/links")) == 1


def test_pattern_xor_external_url(api: Api) -> None:
    both = {"external_url": "https://x.test/2", "pattern": "ORDER-1"}
    assert api.post("/links", json=both).status_code == 400
    assert api.post("/links", json={"name": "nothing"}).status_code == 400
    assert api.post("/links", json={"external_url": "   "}).status_code == 400
    assert api.post("/links", json={"external_url": "https://x.test/\x00"}).status_code == 400
    assert api.post("/links", json={"external_url": 7}).status_code == 400
    assert api.all_pages("/links") == []
    order = api.ok("POST", "/links", 201, json={"pattern": "ORDER-777"})
    assert (order["name"], order["external_url"], order["type"]) == (
        "ORDER-777",
        "ORDER-777",
        "web",
    )


def test_list_links_pages_by_id_and_filters_by_type(api: Api) -> None:
    made = [
        api.ok("POST", "/links", 201, json={"external_url": f"https://x.test/{i}"})["id"]
        for i in range(5)
    ]
    assert [lk["id"] for lk in api.all_pages("/links", limit=2)] == made
    assert [lk["id"] for lk in api.all_pages("/links", limit=2, sort_order="desc")] == made[::-1]
    assert [lk["id"] for lk in api.all_pages("/links", **{"q[types]": "web"})] == made
    assert api.all_pages("/links", **{"q[types]": "jira"}) == []
    assert api.get("/links", params={"sort_by": "name"}).status_code == 400


def test_link_custom_fields_replace_the_map(api: Api) -> None:
    api.ok(
        "POST",
        "/porch/custom_fields",
        201,
        json={"object_type": "link", "name": "Priority", "type": "string"},
    )
    link = api.ok("POST", "/links", 201, json={"external_url": "https://x.test/cf"})
    path = f"/links/{link['id']}"
    api.ok("PATCH", path, 204, json={"custom_fields": {"Priority": "high"}})
    assert api.ok("GET", path)["custom_fields"] == {"Priority": "high"}
    assert api.patch(path, json={"custom_fields": {"Nope": 1}}).status_code == 400
    assert api.patch(path, json={"custom_fields": {"Priority": 3}}).status_code == 400
    assert api.ok("GET", path)["custom_fields"] == {"Priority": "high"}
    api.ok("PATCH", path, 204, json={"custom_fields": {}})
    assert api.ok("GET", path)["custom_fields"] == {}


def test_link_conversations_by_id_and_by_url(dunder_mifflin: Company) -> None:
    api = dunder_mifflin.api
    conv = _conversation(dunder_mifflin)
    cid = conv["id"]
    link = api.ok("POST", "/links", 201, json={"external_url": "https://x.test/a"})
    api.ok("POST", f"/conversations/{cid}/links", 204, json={"link_ids": [link["id"]]})
    # A new URL makes a web link; a known one reuses its link; repeats change nothing.
    api.ok(
        "POST",
        f"/conversations/{cid}/links",
        204,
        json={"link_external_urls": ["https://x.test/a", "https://x.test/b"]},
    )
    api.ok("POST", f"/conversations/{cid}/links", 204, json={"link_ids": [link["id"]]})
    shown = api.ok("GET", f"/conversations/{cid}")["links"]
    assert [lk["external_url"] for lk in shown] == ["https://x.test/a", "https://x.test/b"]
    assert shown[1]["type"] == "web"
    added = _events(api, "link_added")
    assert sorted(e["target"]["data"]["id"] for e in added) == sorted(lk["id"] for lk in shown)
    assert {e["conversation"]["id"] for e in added} == {cid}
    linked = api.ok("GET", f"/links/{link['id']}/conversations")["_results"]
    assert [c["id"] for c in linked] == [cid]

    api.ok("DELETE", f"/conversations/{cid}/links", 204, json={"link_ids": [link["id"]]})
    api.ok("DELETE", f"/conversations/{cid}/links", 204, json={"link_ids": [link["id"]]})
    assert [lk["id"] for lk in api.ok("GET", f"/conversations/{cid}")["links"]] == [shown[1]["id"]]
    assert [e["target"]["data"]["id"] for e in _events(api, "link_removed")] == [link["id"]]
    assert api.ok("GET", f"/links/{link['id']}/conversations")["_results"] == []
    # Front's public log carries the link events too.
    public = api.ok("GET", "/events", params={"q[types]": "link_removed"})["_results"]
    assert [e["target"]["_meta"]["type"] for e in public] == ["link"]


def test_bad_conversation_link_requests_change_nothing(dunder_mifflin: Company) -> None:
    api = dunder_mifflin.api
    cid = _conversation(dunder_mifflin)["id"]
    link = api.ok("POST", "/links", 201, json={"external_url": "https://x.test/c"})
    path = f"/conversations/{cid}/links"
    both = {"link_ids": [link["id"]], "link_external_urls": ["https://x.test/d"]}
    assert api.post(path, json=both).status_code == 400
    assert api.post(path, json={}).status_code == 400
    assert api.post(path, json={"link_ids": [link["id"], "top_zzzzzz"]}).status_code == 404
    urls = [f"https://x.test/many/{i}" for i in range(11)]
    assert api.post(path, json={"link_external_urls": urls}).status_code == 400
    assert (
        api.post("/conversations/cnv_zzzzzz/links", json={"link_ids": [link["id"]]}).status_code
        == 404
    )
    assert api.delete(path, json={}).status_code == 400
    assert api.delete(path, json={"link_ids": ["top_zzzzzz"]}).status_code == 404
    assert api.ok("GET", f"/conversations/{cid}")["links"] == []
    assert [lk["external_url"] for lk in api.all_pages("/links")] == ["https://x.test/c"]
    assert _events(api, "link_added") == []


def test_links_are_per_company(dunder_mifflin: Company, vance_refrigeration: Company) -> None:
    link = dunder_mifflin.api.ok("POST", "/links", 201, json={"external_url": "https://x.test/s"})
    bob = vance_refrigeration.api
    assert bob.get(f"/links/{link['id']}").status_code == 404
    assert bob.patch(f"/links/{link['id']}", json={"name": "mine"}).status_code == 404
    assert bob.get(f"/links/{link['id']}/conversations").status_code == 404
    assert bob.all_pages("/links") == []
    bob_conv = _conversation(vance_refrigeration)
    attempt = bob.post(f"/conversations/{bob_conv['id']}/links", json={"link_ids": [link["id"]]})
    assert attempt.status_code == 404
    # The same URL is a separate link in another company.
    own = bob.ok("POST", "/links", 201, json={"external_url": "https://x.test/s"})
    assert own["id"] != link["id"]
    assert dunder_mifflin.api.ok("GET", f"/links/{link['id']}")["name"] == "https://x.test/s"
