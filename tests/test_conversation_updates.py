"""Changing conversations through the API: PATCH, assignee, tags, followers, inboxes, delete,
and the events each change leaves on the conversation."""

from __future__ import annotations

import time
from typing import Any

from tests.conftest import Api, Company


def _inbox(api: Api, company: Company, name: str = "Support") -> str:
    return str(api.ok("POST", f"/teams/{company.team_id}/inboxes", 201, json={"name": name})["id"])


def _task(api: Api, inbox: str, subject: str = "Order paper") -> dict[str, Any]:
    body: dict[str, Any] = api.ok(
        "POST", "/conversations", 201, json={"type": "task", "subject": subject, "inbox_id": inbox}
    )
    return body


def _events(api: Api, conv: str) -> list[dict[str, Any]]:
    """The conversation's events, oldest first."""
    return list(reversed(api.all_pages(f"/conversations/{conv}/events")))


def _kinds(api: Api, conv: str) -> list[str]:
    return [e["type"] for e in _events(api, conv)]


def test_status_moves_through_archive_trash_and_back(dunder_mifflin: Company) -> None:
    api = dunder_mifflin.api
    conv = _task(api, _inbox(api, dunder_mifflin))["id"]
    path = f"/conversations/{conv}"
    api.ok("PATCH", path, 204, json={"status": "archived"})
    assert api.ok("GET", path)["status"] == "archived"
    api.ok("PATCH", path, 204, json={"status": "open"})
    reopened = api.ok("GET", path)
    assert reopened["status"] == "unassigned"
    api.ok("PATCH", path, 204, json={"status": "deleted"})
    assert api.ok("GET", path)["status"] == "deleted"
    api.ok("PATCH", path, 204, json={"status": "open"})
    assert api.ok("GET", path)["status"] == "unassigned"
    # Archiving twice is one change.
    api.ok("PATCH", path, 204, json={"status": "archived"})
    api.ok("PATCH", path, 204, json={"status": "archived"})
    assert _kinds(api, conv) == ["archive", "reopen", "trash", "restore", "archive"]
    assert all(e["conversation"]["id"] == conv for e in _events(api, conv))
    api.ok("PATCH", path, 204, json={"status": "spam"})
    assert api.ok("GET", path)["status"] == "deleted"
    assert api.patch(path, json={"status": "sleeping"}).status_code == 400


def test_assign_by_id_email_and_unassign(dunder_mifflin: Company) -> None:
    api = dunder_mifflin.api
    dwight = api.ok("POST", "/porch/teammates", 201, json={"email": "dwight@dundermifflin.com"})
    conv = _task(api, _inbox(api, dunder_mifflin))["id"]
    path = f"/conversations/{conv}"
    api.ok("PATCH", path, 204, json={"assignee_id": "dwight@dundermifflin.com"})
    got = api.ok("GET", path)
    assert got["assignee"]["id"] == dwight["id"] and got["status"] == "assigned"
    assert api.ok("GET", f"/teammates/{dwight['id']}/conversations")["_results"][0]["id"] == conv
    api.ok("PUT", f"{path}/assignee", 204, json={"assignee_id": None})
    assert api.ok("GET", path)["assignee"] is None
    api.ok("PUT", f"{path}/assignee", 204, json={"assignee_id": dunder_mifflin.admin_id})
    assert api.ok("GET", path)["assignee"]["id"] == dunder_mifflin.admin_id
    # The key is required; an unknown teammate is a 404 and changes nothing.
    assert api.put(f"{path}/assignee", json={}).status_code == 400
    assert api.put(f"{path}/assignee", json={"assignee_id": "tea_zzzz"}).status_code == 404
    assert api.ok("GET", path)["assignee"]["id"] == dunder_mifflin.admin_id
    events = _events(api, conv)
    assert [e["type"] for e in events] == ["assign", "unassign", "assign"]
    assert events[0]["target"]["_meta"]["type"] == "teammate"


def test_tag_ids_replace_and_tag_routes_change_only_what_differs(
    api: Api, dunder_mifflin: Company
) -> None:
    tags = [api.ok("POST", "/company/tags", 201, json={"name": n})["id"] for n in "abc"]
    conv = _task(api, _inbox(api, dunder_mifflin))["id"]
    path = f"/conversations/{conv}"

    def current() -> list[str]:
        return sorted(t["id"] for t in api.ok("GET", path)["tags"])

    api.ok("PATCH", path, 204, json={"tag_ids": tags[:2]})
    assert current() == sorted(tags[:2])
    api.ok("PATCH", path, 204, json={"tag_ids": [tags[2]]})
    assert current() == [tags[2]]
    assert api.patch(path, json={"tag_ids": [tags[0], "tag_nope"]}).status_code == 404
    assert current() == [tags[2]]
    assert [c["id"] for c in api.ok("GET", f"/tags/{tags[2]}/conversations")["_results"]] == [conv]
    before = len(_kinds(api, conv))
    api.ok("POST", f"{path}/tags", 204, json={"tag_ids": [tags[2], tags[0]]})
    assert current() == sorted([tags[0], tags[2]])
    api.ok("DELETE", f"{path}/tags", 204, json={"tag_ids": [tags[1], tags[2]]})
    assert current() == [tags[0]]
    assert _kinds(api, conv)[before:] == ["tag", "untag"]
    assert api.post(f"{path}/tags", json={}).status_code == 400


def test_move_to_another_inbox(dunder_mifflin: Company) -> None:
    api = dunder_mifflin.api
    support = _inbox(api, dunder_mifflin)
    sales = _inbox(api, dunder_mifflin, "Sales")
    conv = _task(api, support)["id"]
    path = f"/conversations/{conv}"
    assert [i["id"] for i in api.ok("GET", f"{path}/inboxes")["_results"]] == [support]
    api.ok("PATCH", path, 204, json={"inbox_id": sales})
    assert [i["id"] for i in api.ok("GET", f"{path}/inboxes")["_results"]] == [sales]
    assert api.ok("GET", f"/inboxes/{support}/conversations")["_results"] == []
    assert api.patch(path, json={"inbox_id": "inb_nope"}).status_code == 404
    events = _events(api, conv)
    assert [e["type"] for e in events] == ["move"]
    assert events[0]["target"]["_meta"]["type"] == "inboxes"


def test_custom_fields_replace_the_whole_map(api: Api, dunder_mifflin: Company) -> None:
    for name, kind in (("City", "string"), ("Floor", "number")):
        api.ok(
            "POST",
            "/porch/custom_fields",
            201,
            json={"object_type": "conversation", "name": name, "type": kind},
        )
    conv = _task(api, _inbox(api, dunder_mifflin))["id"]
    path = f"/conversations/{conv}"
    api.ok("PATCH", path, 204, json={"custom_fields": {"City": "Scranton", "Floor": 2}})
    assert api.ok("GET", path)["custom_fields"] == {"City": "Scranton", "Floor": 2}
    api.ok("PATCH", path, 204, json={"custom_fields": {"Floor": 3}})
    assert api.ok("GET", path)["custom_fields"] == {"Floor": 3}
    assert api.patch(path, json={"custom_fields": {"Floor": "high"}}).status_code == 400
    assert api.patch(path, json={"custom_fields": {"Nope": 1}}).status_code == 400
    assert api.ok("GET", path)["custom_fields"] == {"Floor": 3}
    # One event per field that changed: City and Floor set, then City erased and Floor changed.
    assert _kinds(api, conv) == ["custom_field_updated"] * 4


def test_task_fields_only_on_tasks(dunder_mifflin: Company) -> None:
    api = dunder_mifflin.api
    inbox = _inbox(api, dunder_mifflin)
    conv = _task(api, inbox)["id"]
    path = f"/conversations/{conv}"
    due = round(time.time()) + 3600
    api.ok("PATCH", path, 204, json={"description": "Ream of A4", "due_at": due})
    got = api.ok("GET", path)
    assert got["description"] == "Ream of A4" and got["due_at"] == due
    assert api.patch(path, json={"due_at": time.time() - 10}).status_code == 400
    assert api.patch(path, json={"due_at": time.time() + 51 * 366 * 86400}).status_code == 400
    api.ok("PATCH", path, 204, json={"due_at": None, "description": None})
    got = api.ok("GET", path)
    assert got["due_at"] is None and got["description"] is None
    chat = api.ok(
        "POST",
        "/conversations",
        201,
        json={
            "type": "discussion",
            "subject": "Lunch",
            "inbox_id": inbox,
            "comment": {"body": "Pretzel day"},
        },
    )["id"]
    assert api.patch(f"/conversations/{chat}", json={"description": "x"}).status_code == 400


def test_ticket_status_and_waiting_since(dunder_mifflin: Company) -> None:
    api = dunder_mifflin.api
    statuses = {s["category"]: s["id"] for s in api.ok("GET", "/company/statuses")["_results"]}
    conv = _task(api, _inbox(api, dunder_mifflin))["id"]
    path = f"/conversations/{conv}"
    both = {"status": "archived", "status_id": statuses["waiting"]}
    assert api.patch(path, json=both).status_code == 400
    api.ok("PATCH", path, 204, json={"status_id": statuses["waiting"]})
    got = api.ok("GET", path)
    assert got["status_id"] == statuses["waiting"] and got["status_category"] == "waiting"
    assert got["waiting_since"] >= got["created_at"]
    api.ok("PATCH", path, 204, json={"status_id": statuses["resolved"]})
    got = api.ok("GET", path)
    assert got["status"] == "archived" and "waiting_since" not in got
    assert "ticket_status_update" in _kinds(api, conv)
    assert api.patch(path, json={"status_id": "sts_nope"}).status_code == 404


def test_delete_only_from_trash_and_with_delete_scope(dunder_mifflin: Company) -> None:
    api = dunder_mifflin.api
    conv = _task(api, _inbox(api, dunder_mifflin))["id"]
    path = f"/conversations/{conv}"
    api.ok("POST", f"{path}/followers", 204, json={"teammate_ids": [dunder_mifflin.admin_id]})
    assert api.delete(path).status_code == 400
    api.ok("PATCH", path, 204, json={"status": "deleted"})
    writer = dunder_mifflin.client(dunder_mifflin.token(permissions=["read", "write"]))
    assert writer.delete(path).status_code == 403
    api.ok("DELETE", path, 204)
    assert api.get(path).status_code == 404
    assert api.delete(path).status_code == 404
    # Its events stay in the log, readable by company-wide tokens: the deletion is news too.
    logged = [
        e["type"]
        for e in reversed(api.all_pages("/porch/events", limit=100))
        if (e.get("conversation") or {}).get("id") == conv
    ]
    assert "trash" in logged and logged[-1] == "conversation_deleted"


def test_followers(dunder_mifflin: Company) -> None:
    api = dunder_mifflin.api
    jim = api.ok("POST", "/porch/teammates", 201, json={"email": "jim@dundermifflin.com"})
    conv = _task(api, _inbox(api, dunder_mifflin))["id"]
    path = f"/conversations/{conv}/followers"
    assert api.ok("GET", path)["_results"] == []
    api.ok("POST", path, 204, json={"teammate_ids": [jim["id"], dunder_mifflin.admin_id]})
    assert sorted(t["id"] for t in api.ok("GET", path)["_results"]) == sorted(
        [jim["id"], dunder_mifflin.admin_id]
    )
    api.ok("DELETE", path, 204, json={"teammate_ids": ["jim@dundermifflin.com"]})
    assert [t["id"] for t in api.ok("GET", path)["_results"]] == [dunder_mifflin.admin_id]
    assert api.post(path, json={"teammate_ids": ["tea_nope"]}).status_code == 404
    assert api.post(path, json={"teammate_ids": "x"}).status_code == 400


def test_conversation_events_page_newest_first(dunder_mifflin: Company) -> None:
    api = dunder_mifflin.api
    conv = _task(api, _inbox(api, dunder_mifflin))["id"]
    other = _task(api, _inbox(api, dunder_mifflin, "Other"))["id"]
    path = f"/conversations/{conv}"
    for i in range(9):
        api.ok("PATCH", path, 204, json={"status": "archived" if i % 2 == 0 else "open"})
    api.ok("PATCH", f"/conversations/{other}", 204, json={"status": "archived"})
    first = api.ok("GET", f"{path}/events", params={"limit": 4})
    assert len(first["_results"]) == 4 and first["_pagination"]["next"]
    everything = api.all_pages(f"{path}/events", limit=4)
    assert [e["type"] for e in everything][:2] == ["archive", "reopen"]
    assert len(everything) == 9
    ids_ = [e["id"] for e in everything]
    assert len(set(ids_)) == 9


def test_other_companies_cannot_touch_a_conversation(
    dunder_mifflin: Company, vance_refrigeration: Company
) -> None:
    api = dunder_mifflin.api
    conv = _task(api, _inbox(api, dunder_mifflin))["id"]
    bob = vance_refrigeration.api
    path = f"/conversations/{conv}"
    assert bob.patch(path, json={"status": "archived"}).status_code == 404
    assert bob.put(f"{path}/assignee", json={"assignee_id": None}).status_code == 404
    assert bob.get(f"{path}/events").status_code == 404
    assert bob.get(f"{path}/followers").status_code == 404
    assert bob.delete(path).status_code == 404
    assert api.ok("GET", path)["status"] == "unassigned"
    # Bob's tags and teammates are unknown in Dunder Mifflin.
    bob_tag = bob.ok("POST", "/company/tags", 201, json={"name": "vance"})["id"]
    assert api.patch(path, json={"tag_ids": [bob_tag]}).status_code == 404
    assert api.patch(path, json={"assignee_id": vance_refrigeration.admin_id}).status_code == 404


def test_routes_of_a_merged_conversation_answer_301(dunder_mifflin: Company) -> None:
    api = dunder_mifflin.api
    inbox = _inbox(api, dunder_mifflin)
    gone, survivor = _task(api, inbox)["id"], _task(api, inbox, "Survivor")["id"]

    api.ok("POST", f"/porch/conversations/{survivor}/merge", 200, json={"conversation_ids": [gone]})
    calls: list[tuple[str, str, dict[str, Any] | None]] = [
        ("PATCH", "", {"status": "archived"}),
        ("PUT", "/assignee", {"assignee_id": None}),
        ("POST", "/tags", {"tag_ids": []}),
        ("GET", "/followers", None),
        ("GET", "/inboxes", None),
        ("GET", "/events", None),
        ("PATCH", "/reminders", {"teammate_id": dunder_mifflin.admin_id, "scheduled_at": None}),
    ]
    for method, suffix, body in calls:
        resp = api.request(
            method, f"/conversations/{gone}{suffix}", json=body, follow_redirects=False
        )
        assert resp.status_code == 301, (method, suffix, resp.status_code)
        assert resp.headers["location"].endswith(f"/conversations/{survivor}{suffix}")
    assert api.ok("GET", f"/conversations/{survivor}")["status"] == "unassigned"
