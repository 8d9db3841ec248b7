"""Ticketing on conversations: ticket numbers, the status every conversation shows, and lists
filtered by ticket status category or id."""

from __future__ import annotations

from typing import Any

from tests.conftest import Api, Company


def _inbox(company: Company) -> str:
    return str(
        company.api.ok("POST", f"/teams/{company.team_id}/inboxes", 201, json={"name": "Desk"})[
            "id"
        ]
    )


def _task(api: Api, inbox: str, subject: str) -> dict[str, Any]:
    body = {"type": "task", "subject": subject, "inbox_id": inbox}
    return dict(api.ok("POST", "/conversations", 201, json=body))


def _statuses(api: Api) -> dict[str, str]:
    return {s["category"]: s["id"] for s in api.ok("GET", "/company/statuses")["_results"]}


def _ids(api: Api, **params: Any) -> set[str]:
    return {c["id"] for c in api.all_pages("/conversations", **params)}


def test_conversations_get_consecutive_ticket_numbers_per_company(
    dunder_mifflin: Company, vance_refrigeration: Company
) -> None:
    api = dunder_mifflin.api
    inbox = _inbox(dunder_mifflin)
    made = [_task(api, inbox, f"Order {i}") for i in range(3)]
    assert [c["ticket_ids"] for c in made] == [["TICKET-1"], ["TICKET-2"], ["TICKET-3"]]
    assert api.ok("GET", f"/conversations/{made[1]['id']}")["ticket_ids"] == ["TICKET-2"]
    # Another company counts on its own.
    theirs = _task(vance_refrigeration.api, _inbox(vance_refrigeration), "Freezer")
    assert theirs["ticket_ids"] == ["TICKET-1"]
    # Without ticketing no number is taken, and the count goes on where it was afterwards.
    api.ok("PATCH", "/porch/company", json={"ticketing_enabled": False})
    plain = _task(api, inbox, "No ticket")
    assert plain["ticket_ids"] == [] and "status_category" not in plain
    api.ok("PATCH", "/porch/company", json={"ticketing_enabled": True})
    assert _task(api, inbox, "Again")["ticket_ids"] == ["TICKET-4"]


def test_every_open_or_archived_conversation_shows_a_ticket_status(
    dunder_mifflin: Company,
) -> None:
    api = dunder_mifflin.api
    statuses = _statuses(api)
    conv = _task(api, _inbox(dunder_mifflin), "Paper jam")
    assert (conv["status_category"], conv["status_id"]) == ("open", statuses["open"])
    path = f"/conversations/{conv['id']}"
    api.ok("PATCH", path, 204, json={"status": "archived"})
    got = api.ok("GET", path)
    assert (got["status_category"], got["status_id"]) == ("resolved", statuses["resolved"])
    # A waiting ticket that gets archived is resolved; reopened, it is open again.
    api.ok("PATCH", path, 204, json={"status_id": statuses["waiting"]})
    assert api.ok("GET", path)["status_category"] == "waiting"
    api.ok("PATCH", path, 204, json={"status": "archived"})
    assert api.ok("GET", path)["status_category"] == "resolved"
    api.ok("PATCH", path, 204, json={"status": "open"})
    assert api.ok("GET", path)["status_category"] == "open"
    api.ok("PATCH", path, 204, json={"status": "deleted"})
    assert "status_category" not in api.ok("GET", path)


def test_lists_filter_by_status_category_and_status_id(dunder_mifflin: Company) -> None:
    api = dunder_mifflin.api
    statuses = _statuses(api)
    on_hold = api.ok(
        "POST", "/porch/statuses", 201, json={"name": "On hold", "category": "waiting"}
    )["id"]
    inbox = _inbox(dunder_mifflin)
    fresh, waiting, held, done, binned = (_task(api, inbox, s)["id"] for s in "abcde")
    api.ok("PATCH", f"/conversations/{waiting}", 204, json={"status_id": statuses["waiting"]})
    api.ok("PATCH", f"/conversations/{held}", 204, json={"status_id": on_hold})
    api.ok("PATCH", f"/conversations/{done}", 204, json={"status_id": statuses["resolved"]})
    api.ok("PATCH", f"/conversations/{binned}", 204, json={"status": "deleted"})

    assert _ids(api, **{"q[status_categories]": "open"}) == {fresh}
    assert _ids(api, **{"q[status_categories]": "waiting"}) == {waiting, held}
    assert _ids(api, **{"q[status_categories][]": ["open", "resolved"]}) == {fresh, done}
    assert _ids(api, **{"q[status_ids]": on_hold}) == {held}
    assert _ids(api, **{"q[status_ids][]": [statuses["open"], on_hold]}) == {fresh, held}
    # The same filters work on an inbox's list, and paging keeps them.
    pages = api.all_pages(
        f"/inboxes/{inbox}/conversations", limit=1, **{"q[status_categories]": "waiting"}
    )
    assert {c["id"] for c in pages} == {waiting, held} and len(pages) == 2

    for params in (
        {"q[status_categories]": "snoozed"},
        {"q[status_ids]": "sts_zzzzzz"},
        {"q[status_ids]": "tag_1"},
        {"q[status_categories]": "open", "q[status_ids]": on_hold},
        {"q[status_categories]": "open", "q[statuses]": "archived"},
    ):
        resp = api.get("/conversations", params=params)
        assert resp.status_code == 400, params
        assert resp.json()["_error"]["status"] == 400
    api.ok("PATCH", "/porch/company", json={"ticketing_enabled": False})
    assert api.get("/conversations", params={"q[status_categories]": "open"}).status_code == 400


def test_statuses_filter_splits_open_into_assigned_and_unassigned(
    dunder_mifflin: Company,
) -> None:
    api = dunder_mifflin.api
    inbox = _inbox(dunder_mifflin)
    mine, free, shelved = (_task(api, inbox, s)["id"] for s in "xyz")
    api.ok(
        "PUT", f"/conversations/{mine}/assignee", 204, json={"assignee_id": dunder_mifflin.admin_id}
    )
    api.ok("PATCH", f"/conversations/{shelved}", 204, json={"status": "archived"})
    assert _ids(api, **{"q[statuses]": "assigned"}) == {mine}
    assert _ids(api, **{"q[statuses]": "unassigned"}) == {free}
    assert _ids(api, **{"q[statuses][]": ["assigned", "archived"]}) == {mine, shelved}
    # Pages hold as many as asked for even when the filter skips conversations in between.
    page = api.ok("GET", "/conversations", params={"q[statuses]": "assigned", "limit": 1})
    assert [c["id"] for c in page["_results"]] == [mine]


def test_received_and_imported_conversations_are_numbered_too(dunder_mifflin: Company) -> None:
    api = dunder_mifflin.api
    inbox = _inbox(dunder_mifflin)
    api.ok("POST", f"/inboxes/{inbox}/channels", 204, json={"type": "custom"})
    channel = api.ok("GET", f"/inboxes/{inbox}/channels")["_results"][0]["id"]
    task = _task(api, inbox, "First")
    answer = api.ok(
        "POST",
        f"/channels/{channel}/incoming_messages",
        202,
        json={"sender": {"handle": "bob"}, "body": "Where is my order?"},
    )
    msg = api.message(answer["message_uid"])
    conv = msg["_links"]["related"]["conversation"].rsplit("/", 1)[-1]
    assert task["ticket_ids"] == ["TICKET-1"]
    assert api.ok("GET", f"/conversations/{conv}")["ticket_ids"] == ["TICKET-2"]
    # A reply in the same thread is the same ticket.
    again = api.ok(
        "POST",
        f"/channels/{channel}/incoming_messages",
        202,
        json={"sender": {"handle": "bob"}, "body": "Hello?"},
    )
    api.message(again["message_uid"])
    assert _ids(api) == {task["id"], conv}
