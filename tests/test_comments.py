"""Comments through the API: add, list, get, update, mentions and replies."""

from __future__ import annotations

from typing import Any

from porch import ids
from porch.store import crud
from porch.store.db import Database
from porch.store.tables import conversations
from tests.conftest import Api, Company


def _teammate(api: Api, email: str, username: str) -> dict[str, Any]:
    body: dict[str, Any] = api.ok(
        "POST", "/porch/teammates", 201, json={"email": email, "username": username}
    )
    return body


def _conversation(company: Company, subject: str = "Paper order") -> str:
    api = company.api
    inbox = api.ok("POST", f"/teams/{company.team_id}/inboxes", 201, json={"name": subject})
    return str(
        api.ok(
            "POST",
            "/conversations",
            201,
            json={"type": "task", "subject": subject, "inbox_id": inbox["id"]},
        )["id"]
    )


def test_add_list_and_get_comments(dunder_mifflin: Company) -> None:
    api = dunder_mifflin.api
    conv = _conversation(dunder_mifflin)
    before = api.ok("GET", f"/conversations/{conv}")["updated_at"]
    assert api.ok("GET", f"/conversations/{conv}/comments")["_results"] == []
    first = api.ok("POST", f"/conversations/{conv}/comments", 201, json={"body": "Bears."})
    assert first["id"].startswith("com_") and first["body"] == "Bears."
    assert first["author"]["type"] == "api" and first["is_pinned"] is False
    assert first["attachments"] == []
    assert first["_links"]["related"]["conversation"].endswith(f"/conversations/{conv}")
    assert first["_links"]["related"]["comment_replied_to"] is None
    second = api.ok(
        "POST",
        f"/conversations/{conv}/comments",
        201,
        json={"body": "Beets.", "author_id": dunder_mifflin.admin_id, "is_pinned": True},
    )
    assert second["author"]["id"] == dunder_mifflin.admin_id and second["is_pinned"] is True
    listed = api.ok("GET", f"/conversations/{conv}/comments")
    assert [c["id"] for c in listed["_results"]] == [second["id"], first["id"]]
    assert listed["_pagination"]["next"] is None
    assert api.ok("GET", f"/comments/{first['id']}") == first
    # A comment is activity: the conversation moves up.
    assert api.ok("GET", f"/conversations/{conv}")["updated_at"] >= before
    assert api.ok("GET", "/conversations")["_results"][0]["id"] == conv


def test_bad_comments_are_refused_and_change_nothing(dunder_mifflin: Company) -> None:
    api = dunder_mifflin.api
    conv = _conversation(dunder_mifflin)
    for body in (
        {},
        {"body": 3},
        {"body": "   "},
        {"body": "a\x00b"},
        {"body": "x", "is_pinned": "yes"},
    ):
        assert api.post(f"/conversations/{conv}/comments", json=body).status_code == 400, body
    unknown = {"body": "x", "author_id": "tea_zzzzzz"}
    assert api.post(f"/conversations/{conv}/comments", json=unknown).status_code == 404
    multipart = api.post(f"/conversations/{conv}/comments", files={"attachments": b"x"})
    assert multipart.status_code == 400
    assert api.ok("GET", f"/conversations/{conv}/comments")["_results"] == []
    assert api.get("/conversations/cnv_zzzzzz/comments").status_code == 404
    assert api.get("/comments/com_zzzzzz").status_code == 404
    assert api.get("/comments/cnv_1").status_code == 404


def test_mentions_are_parsed_from_the_body(dunder_mifflin: Company) -> None:
    api = dunder_mifflin.api
    dwight = _teammate(api, "dwight@dundermifflin.com", "dwight")
    jim = _teammate(api, "jim@dundermifflin.com", "jim")
    conv = _conversation(dunder_mifflin)
    comment = api.ok(
        "POST",
        f"/conversations/{conv}/comments",
        201,
        json={"body": "@dwight and @jim, not @Jim, nor jim@dundermifflin.com, nor @toby. @dwight"},
    )
    mentioned = api.ok("GET", f"/comments/{comment['id']}/mentions")["_results"]
    assert sorted(t["id"] for t in mentioned) == sorted([dwight["id"], jim["id"]])
    plain = api.ok("POST", f"/conversations/{conv}/comments", 201, json={"body": "@Dwight"})
    assert api.ok("GET", f"/comments/{plain['id']}/mentions")["_results"] == []
    # A new body replaces the mentions.
    api.ok("PATCH", f"/comments/{comment['id']}/", json={"body": "only @jim"})
    mentioned = api.ok("GET", f"/comments/{comment['id']}/mentions")["_results"]
    assert [t["id"] for t in mentioned] == [jim["id"]]


def test_update_pins_and_only_the_writing_token_edits_the_body(dunder_mifflin: Company) -> None:
    api = dunder_mifflin.api
    conv = _conversation(dunder_mifflin)
    comment = api.ok("POST", f"/conversations/{conv}/comments", 201, json={"body": "Draft"})
    updated = api.ok("PATCH", f"/comments/{comment['id']}/", json={"body": "Final"})
    assert updated["body"] == "Final" and updated["id"] == comment["id"]
    assert api.ok("GET", f"/comments/{comment['id']}")["body"] == "Final"
    # Without the trailing slash too.
    assert api.ok("PATCH", f"/comments/{comment['id']}", json={"is_pinned": True})["is_pinned"]
    other = dunder_mifflin.client(dunder_mifflin.token())
    assert other.patch(f"/comments/{comment['id']}/", json={"body": "Hijack"}).status_code == 403
    pinned = other.ok("PATCH", f"/comments/{comment['id']}/", json={"is_pinned": False})
    assert pinned["is_pinned"] is False and pinned["body"] == "Final"
    assert api.patch(f"/comments/{comment['id']}/", json={"body": ""}).status_code == 400
    assert api.ok("GET", f"/comments/{comment['id']}")["body"] == "Final"
    reader = dunder_mifflin.client(dunder_mifflin.token(permissions=["read"]))
    assert reader.patch(f"/comments/{comment['id']}/", json={"is_pinned": True}).status_code == 403


def test_replies_go_to_the_same_conversation(dunder_mifflin: Company) -> None:
    api = dunder_mifflin.api
    conv = _conversation(dunder_mifflin)
    parent = api.ok("POST", f"/conversations/{conv}/comments", 201, json={"body": "Question?"})
    reply = api.ok("POST", f"/comments/{parent['id']}/replies", 201, json={"body": "Answer."})
    assert reply["_links"]["related"]["comment_replied_to"].endswith(f"/comments/{parent['id']}")
    assert reply["_links"]["related"]["conversation"] == parent["_links"]["related"]["conversation"]
    listed = api.ok("GET", f"/conversations/{conv}/comments")["_results"]
    assert [c["id"] for c in listed] == [reply["id"], parent["id"]]
    assert api.post(f"/comments/{parent['id']}/replies", json={}).status_code == 400
    assert api.post("/comments/com_zzzzzz/replies", json={"body": "x"}).status_code == 404


def test_comments_follow_their_conversation_visibility(
    dunder_mifflin: Company, vance_refrigeration: Company
) -> None:
    api = dunder_mifflin.api
    conv = _conversation(dunder_mifflin)
    comment = api.ok("POST", f"/conversations/{conv}/comments", 201, json={"body": "Secret"})
    other = vance_refrigeration.api
    assert other.get(f"/comments/{comment['id']}").status_code == 404
    assert other.get(f"/comments/{comment['id']}/mentions").status_code == 404
    assert other.get(f"/conversations/{conv}/comments").status_code == 404
    assert other.post(f"/conversations/{conv}/comments", json={"body": "x"}).status_code == 404
    assert other.post(f"/comments/{comment['id']}/replies", json={"body": "x"}).status_code == 404
    assert other.patch(f"/comments/{comment['id']}/", json={"is_pinned": True}).status_code == 404
    # A token of another team of the same company does not see the team's inbox.
    other_team = api.ok("POST", "/porch/teams", 201, json={"name": "Warehouse"})["id"]
    outsider = dunder_mifflin.client(dunder_mifflin.token(namespaces=[f"team:{other_team}"]))
    assert outsider.get(f"/comments/{comment['id']}").status_code == 404
    assert api.ok("GET", f"/comments/{comment['id']}")["body"] == "Secret"


def test_comments_of_a_merged_conversation_stay_reachable(dunder_mifflin: Company) -> None:
    api = dunder_mifflin.api
    merged, survivor = _conversation(dunder_mifflin, "Old"), _conversation(dunder_mifflin, "New")
    comment = api.ok("POST", f"/conversations/{merged}/comments", 201, json={"body": "Before"})

    async def merge(db: Database) -> None:
        async with db.transaction() as tx:
            await crud.update(
                tx,
                conversations,
                company_id=dunder_mifflin.key,
                key=ids.decode(ids.CONVERSATION, merged),
                merged_into_id=ids.decode(ids.CONVERSATION, survivor),
            )

    dunder_mifflin.server.run(merge)
    assert api.get(f"/conversations/{merged}/comments").status_code == 301
    assert api.post(f"/conversations/{merged}/comments", json={"body": "x"}).status_code == 301
    assert api.ok("GET", f"/comments/{comment['id']}") == comment
    reply = api.ok("POST", f"/comments/{comment['id']}/replies", 201, json={"body": "After"})
    assert reply["_links"]["related"]["conversation"].endswith(f"/conversations/{survivor}")
    assert [c["id"] for c in api.ok("GET", f"/conversations/{survivor}/comments")["_results"]] == [
        reply["id"]
    ]
