"""Conversations through the API: create discussions and tasks, get, list and page."""

from __future__ import annotations

import time

from tests.conftest import Company


def _inbox(company: Company, name: str = "Support") -> str:
    return str(
        company.api.ok("POST", f"/teams/{company.team_id}/inboxes", 201, json={"name": name})["id"]
    )


def test_create_a_task_in_an_inbox_and_get_it(dunder_mifflin: Company) -> None:
    api = dunder_mifflin.api
    inbox = _inbox(dunder_mifflin)
    due = round(time.time()) + 86400
    task = api.ok(
        "POST",
        "/conversations",
        201,
        json={
            "type": "task",
            "subject": "Order paper",
            "inbox_id": inbox,
            "description": "Ream of A4",
            "due_at": due,
        },
    )
    assert task["id"].startswith("cnv_") and task["type"] == "task"
    assert task["status"] == "unassigned" and task["due_at"] == due
    assert api.ok("GET", f"/conversations/{task['id']}") == task
    listed = api.ok("GET", f"/inboxes/{inbox}/conversations")["_results"]
    assert [c["id"] for c in listed] == [task["id"]]


def test_a_discussion_needs_a_comment_and_one_place(dunder_mifflin: Company) -> None:
    api = dunder_mifflin.api
    inbox = _inbox(dunder_mifflin)
    assert (
        api.post(
            "/conversations", json={"type": "discussion", "subject": "x", "inbox_id": inbox}
        ).status_code
        == 400
    )
    both = {
        "type": "discussion",
        "subject": "x",
        "inbox_id": inbox,
        "teammate_ids": [dunder_mifflin.admin_id],
        "comment": {"body": "hi"},
    }
    assert api.post("/conversations", json=both).status_code == 400
    chat = api.ok(
        "POST",
        "/conversations",
        201,
        json={
            "type": "discussion",
            "subject": "Lunch?",
            "teammate_ids": [dunder_mifflin.admin_id],
            "comment": {"body": "Pretzel day!"},
        },
    )
    assert chat["type"] == "discussion"
    kinds = [e["type"] for e in api.all_pages("/porch/events", limit=100)]
    assert "comment" in kinds


def test_lists_are_newest_activity_first_and_page_exactly_once(dunder_mifflin: Company) -> None:
    api = dunder_mifflin.api
    inbox = _inbox(dunder_mifflin)
    made = [
        api.ok(
            "POST",
            "/conversations",
            201,
            json={"type": "task", "subject": f"t{i}", "inbox_id": inbox},
        )["id"]
        for i in range(7)
    ]
    seen = [c["id"] for c in api.all_pages("/conversations", limit=3)]
    assert seen == list(reversed(made))
    oldest_first = [c["id"] for c in api.all_pages("/conversations", limit=2, sort_order="asc")]
    assert oldest_first == made
    open_only = api.all_pages("/conversations", **{"q[statuses][]": "unassigned"})
    assert len(open_only) == 7
    assert api.all_pages("/conversations", **{"q[statuses]": "archived"}) == []
    assert api.get("/conversations", params={"q[statuses]": "sleeping"}).status_code == 400


def test_other_companies_and_other_teams_do_not_see_conversations(
    dunder_mifflin: Company, vance_refrigeration: Company
) -> None:
    inbox = _inbox(dunder_mifflin)
    conv = dunder_mifflin.api.ok(
        "POST", "/conversations", 201, json={"type": "task", "subject": "Secret", "inbox_id": inbox}
    )
    bob = vance_refrigeration.api
    assert bob.get(f"/conversations/{conv['id']}").status_code == 404
    assert conv["id"] not in [c["id"] for c in bob.all_pages("/conversations")]
