"""Message templates and their folders through the API: team, legacy, private and child
templates and folders, attachments and their downloads, paging, bad input, tenancy."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any

from tests.conftest import Api, Company


def _events(api: Api) -> list[Any]:
    return api.all_pages("/porch/events", limit=100)


def _blobs(company: Company, data: bytes) -> list[Path]:
    digest = hashlib.sha256(data).hexdigest()
    return list((company.server.settings.data_dir / "attachments").rglob(digest))


def _inbox(company: Company, name: str) -> str:
    path = f"/teams/{company.team_id}/inboxes"
    return str(company.api.ok("POST", path, 201, json={"name": name})["id"])


def test_team_template_lifecycle(dunder_mifflin: Company) -> None:
    api = dunder_mifflin.api
    team = dunder_mifflin.team_id
    sales = _inbox(dunder_mifflin, "Sales")
    folder = api.ok("POST", f"/teams/{team}/message_template_folders", 201, json={"name": "Sales"})
    assert folder["id"].startswith("rsf_")
    created = api.ok(
        "POST",
        f"/teams/{team}/message_templates",
        201,
        json={
            "name": "Paper prices",
            "subject": "Our prices",
            "body": "<p>Limitless paper in a paperless world.</p>",
            "folder_id": folder["id"],
            "inbox_ids": [sales],
        },
    )
    assert created["id"].startswith("rsp_")
    assert created["inbox_ids"] == [sales] and created["is_available_for_all_inboxes"] is False
    assert created["_links"]["related"]["owner"].endswith(f"/teams/{team}")
    assert created["_links"]["related"]["parent_folder"].endswith(folder["id"])
    assert created["attachments"] == []
    assert api.ok("GET", f"/message_templates/{created['id']}") == created
    listed = api.ok("GET", f"/teams/{team}/message_templates")["_results"]
    assert [t["id"] for t in listed] == [created["id"]]
    assert [
        f["id"] for f in api.ok("GET", f"/teams/{team}/message_template_folders")["_results"]
    ] == [folder["id"]]

    updated = api.ok(
        "PATCH",
        f"/message_templates/{created['id']}",
        json={"name": "Paper prices 2", "inbox_ids": None, "folder_id": None, "subject": None},
    )
    assert updated["name"] == "Paper prices 2" and updated["subject"] is None
    assert updated["inbox_ids"] is None and updated["is_available_for_all_inboxes"] is True
    assert updated["_links"]["related"]["parent_folder"] is None
    assert updated["body"] == created["body"]
    assert api.ok("GET", f"/message_templates/{created['id']}") == updated

    api.ok("DELETE", f"/message_templates/{created['id']}", 204)
    assert api.get(f"/message_templates/{created['id']}").status_code == 404
    assert api.ok("GET", "/message_templates")["_results"] == []


def test_endpoints_without_an_owner_create_in_the_oldest_team(
    api: Api, dunder_mifflin: Company
) -> None:
    team = dunder_mifflin.team_id
    folder = api.ok("POST", "/message_template_folders", 201, json={"name": "General"})
    assert folder["_links"]["related"]["owner"].endswith(f"/teams/{team}")
    tpl = api.ok(
        "POST",
        "/message_templates",
        201,
        json={"name": "Hello", "body": "Hi!", "folder_id": folder["id"]},
    )
    assert tpl["_links"]["related"]["owner"].endswith(f"/teams/{team}")
    assert tpl["subject"] is None and tpl["inbox_ids"] is None
    assert [t["id"] for t in api.ok("GET", "/message_templates")["_results"]] == [tpl["id"]]
    assert [f["id"] for f in api.ok("GET", "/message_template_folders")["_results"]] == [
        folder["id"]
    ]


def test_folders_nest_and_deleting_one_deletes_its_contents(dunder_mifflin: Company) -> None:
    api = dunder_mifflin.api
    team = dunder_mifflin.team_id
    top = api.ok("POST", f"/teams/{team}/message_template_folders", 201, json={"name": "Top"})
    assert top["_links"]["related"]["child_folders"] is None
    assert top["_links"]["related"]["child_answers"] is None
    child = api.ok(
        "POST",
        f"/message_template_folders/{top['id']}/message_template_folders",
        201,
        json={"name": "Child"},
    )
    assert child["_links"]["related"]["parent_folder"].endswith(top["id"])
    assert child["_links"]["related"]["owner"].endswith(f"/teams/{team}")
    grandchild = api.ok(
        "POST",
        f"/teams/{team}/message_template_folders",
        201,
        json={"name": "Grandchild", "parent_folder_id": child["id"]},
    )
    in_child = api.ok(
        "POST",
        f"/message_template_folders/{child['id']}/message_templates",
        201,
        json={"name": "Deep", "body": "deep"},
    )
    assert in_child["_links"]["related"]["parent_folder"].endswith(child["id"])
    assert in_child["_links"]["related"]["owner"].endswith(f"/teams/{team}")
    in_grandchild = api.post(
        f"/teams/{team}/message_templates",
        data={"name": "Deeper", "body": "deeper", "folder_id": grandchild["id"]},
        files=[("attachments[]", ("deeper.txt", b"deeper file", "text/plain"))],
    )
    assert in_grandchild.status_code == 201, in_grandchild.text
    deeper = in_grandchild.json()

    got = api.ok("GET", f"/message_template_folders/{child['id']}")
    assert got["_links"]["related"]["child_folders"].endswith(
        f"/message_template_folders/{child['id']}/message_template_folders"
    )
    assert got["_links"]["related"]["child_answers"].endswith(
        f"/message_template_folders/{child['id']}/message_templates"
    )
    kids = api.ok("GET", f"/message_template_folders/{top['id']}/message_template_folders")
    assert [k["id"] for k in kids["_results"]] == [child["id"]]
    templates = api.ok("GET", f"/message_template_folders/{child['id']}/message_templates")
    assert [(t["id"], t["name"]) for t in templates["_results"]] == [(in_child["id"], "Deep")]
    assert (
        api.ok("GET", f"/message_template_folders/{top['id']}/message_templates")["_results"] == []
    )

    # A folder cannot move under its own descendant; it can move to the top level.
    loop = api.patch(
        f"/message_template_folders/{top['id']}", json={"parent_folder_id": grandchild["id"]}
    )
    assert loop.status_code == 400
    moved = api.ok(
        "PATCH",
        f"/message_template_folders/{grandchild['id']}",
        json={"parent_folder_id": None, "name": "Promoted"},
    )
    assert moved["name"] == "Promoted" and moved["_links"]["related"]["parent_folder"] is None
    api.ok(
        "PATCH",
        f"/message_template_folders/{grandchild['id']}",
        json={"parent_folder_id": child["id"]},
    )

    gone = api.ok("DELETE", f"/message_template_folders/{top['id']}", 202)
    assert gone == {"status": "accepted", "message_template_folder_id": top["id"]}
    for path in (
        f"/message_template_folders/{top['id']}",
        f"/message_template_folders/{child['id']}",
        f"/message_template_folders/{grandchild['id']}",
        f"/message_templates/{in_child['id']}",
        f"/message_templates/{deeper['id']}",
        f"/download/{deeper['attachments'][0]['id']}",
    ):
        assert api.get(path).status_code == 404, path
    assert api.ok("GET", "/message_template_folders")["_results"] == []
    assert api.ok("GET", "/message_templates")["_results"] == []


def test_a_template_cannot_go_into_another_owners_folder(dunder_mifflin: Company) -> None:
    api = dunder_mifflin.api
    michael = dunder_mifflin.admin_id
    private = api.ok(
        "POST", f"/teammates/{michael}/message_template_folders", 201, json={"name": "Mine"}
    )
    before = _events(api)
    resp = api.post(
        f"/teams/{dunder_mifflin.team_id}/message_templates",
        json={"name": "Team", "body": "x", "folder_id": private["id"]},
    )
    assert resp.status_code == 400
    resp = api.post(
        f"/teams/{dunder_mifflin.team_id}/message_template_folders",
        json={"name": "Team", "parent_folder_id": private["id"]},
    )
    assert resp.status_code == 400
    assert _events(api) == before


def test_private_templates_are_seen_only_by_private_tokens(dunder_mifflin: Company) -> None:
    api = dunder_mifflin.api
    dwight = api.ok(
        "POST",
        "/porch/teammates",
        201,
        json={"email": "dwight@dundermifflin.com", "api_private_access": False},
    )
    refused = api.post(
        f"/teammates/{dwight['id']}/message_templates", json={"name": "Beets", "body": "beets"}
    )
    assert refused.status_code == 403
    assert api.get(f"/teammates/{dwight['id']}/message_template_folders").status_code == 403

    michael = dunder_mifflin.admin_id
    folder = api.ok(
        "POST", f"/teammates/{michael}/message_template_folders", 201, json={"name": "Boss"}
    )
    mine = api.ok(
        "POST",
        f"/teammates/{michael}/message_templates",
        201,
        json={
            "name": "World's best boss",
            "body": "<p>Thats what she said</p>",
            "folder_id": folder["id"],
        },
    )
    assert mine["_links"]["related"]["owner"].endswith(f"/teammates/{michael}")
    listed = api.ok("GET", f"/teammates/{michael}/message_templates")["_results"]
    assert [t["id"] for t in listed] == [mine["id"]]
    folders = api.ok("GET", f"/teammates/{michael}/message_template_folders")["_results"]
    assert [f["id"] for f in folders] == [folder["id"]]

    shared_only = dunder_mifflin.client(dunder_mifflin.token(namespaces=["shared"]))
    assert shared_only.get(f"/message_templates/{mine['id']}").status_code == 404
    assert shared_only.get(f"/message_template_folders/{folder['id']}").status_code == 404
    assert shared_only.delete(f"/message_templates/{mine['id']}").status_code == 404
    assert mine["id"] not in [t["id"] for t in shared_only.all_pages("/message_templates")]
    assert folder["id"] not in [f["id"] for f in shared_only.all_pages("/message_template_folders")]
    assert api.ok("GET", f"/message_templates/{mine['id']}")["name"] == "World's best boss"


def test_attachments_upload_download_and_replace(dunder_mifflin: Company) -> None:
    api = dunder_mifflin.api
    binary = os.urandom(200 * 1024)
    text = "Dunder Mifflin price list: ça coûte 🧻\n".encode()
    inbox = _inbox(dunder_mifflin, "Price lists")
    resp = api.post(
        "/message_templates",
        data={
            "name": "Price list",
            "body": "<p>Attached.</p>",
            "subject": "Prices",
            "inbox_ids[]": [inbox],
        },
        files=[
            ("attachments[]", ("prices.bin", binary, "application/octet-stream")),
            ("attachments[]", ("liste d'été.txt", text, "text/plain")),
        ],
    )
    assert resp.status_code == 201, resp.text
    tpl = resp.json()
    assert tpl["inbox_ids"] == [inbox] and tpl["subject"] == "Prices"
    first, second = tpl["attachments"]
    assert first["filename"] == "prices.bin" and first["size"] == len(binary)
    assert second["filename"] == "liste d'été.txt" and second["content_type"] == "text/plain"
    assert api.ok("GET", f"/message_templates/{tpl['id']}")["attachments"] == tpl["attachments"]

    for path in (
        f"/download/{first['id']}",
        f"/message_templates/{tpl['id']}/download/{first['id']}",
    ):
        got = api.get(path)
        assert got.status_code == 200, got.text
        assert got.content == binary
        assert got.headers["content-type"] == "application/octet-stream"
        assert got.headers["content-length"] == str(len(binary))
        assert 'filename="prices.bin"' in got.headers["content-disposition"]
    got = api.get(f"/message_templates/{tpl['id']}/download/{second['id']}")
    assert got.content == text
    assert "filename*=UTF-8''liste%20d%27%C3%A9t%C3%A9.txt" in got.headers["content-disposition"]

    # A file of one template is not another template's.
    other = api.ok("POST", "/message_templates", 201, json={"name": "Other", "body": "x"})
    assert api.get(f"/message_templates/{other['id']}/download/{first['id']}").status_code == 404

    # Files sent on an update replace the template's files; an empty JSON list removes them.
    resp = api.patch(
        f"/message_templates/{tpl['id']}",
        data={"name": "Price list 2"},
        files=[("attachments[]", ("new.txt", b"new prices", "text/plain"))],
    )
    assert resp.status_code == 200, resp.text
    [new] = resp.json()["attachments"]
    assert resp.json()["name"] == "Price list 2" and resp.json()["subject"] == "Prices"
    assert api.get(f"/download/{first['id']}").status_code == 404
    assert api.get(f"/message_templates/{tpl['id']}/download/{new['id']}").content == b"new prices"
    kept = api.ok("PATCH", f"/message_templates/{tpl['id']}", json={"body": "<p>New</p>"})
    assert kept["attachments"] == [new]
    cleared = api.ok("PATCH", f"/message_templates/{tpl['id']}", json={"attachments": []})
    assert cleared["attachments"] == []
    assert api.get(f"/download/{new['id']}").status_code == 404

    # Deleting the template takes its files with it.
    again = api.post(
        "/message_templates",
        data={"name": "Doomed", "body": "x"},
        files=[("attachments[]", ("doomed.txt", b"doomed", "text/plain"))],
    ).json()
    api.ok("DELETE", f"/message_templates/{again['id']}", 204)
    assert api.get(f"/download/{again['attachments'][0]['id']}").status_code == 404


def test_private_template_files_are_private(dunder_mifflin: Company) -> None:
    api = dunder_mifflin.api
    team_tpl = api.post(
        f"/teams/{dunder_mifflin.team_id}/message_templates",
        data={"name": "Team", "body": "x"},
        files=[("attachments[]", ("team.txt", b"team file", "text/plain"))],
    ).json()
    michael = dunder_mifflin.admin_id
    mine = api.ok(
        "POST", f"/teammates/{michael}/message_templates", 201, json={"name": "Mine", "body": "x"}
    )
    # The private template gets a file through an update (its create takes JSON only).
    mine = api.patch(
        f"/message_templates/{mine['id']}",
        files=[("attachments[]", ("mine.txt", b"private file", "text/plain"))],
    ).json()
    file_id = mine["attachments"][0]["id"]
    assert api.get(f"/download/{file_id}").content == b"private file"
    shared_only = dunder_mifflin.client(dunder_mifflin.token(namespaces=["shared"]))
    assert shared_only.get(f"/download/{file_id}").status_code == 404
    assert shared_only.get(f"/message_templates/{mine['id']}/download/{file_id}").status_code == 404
    team_file = team_tpl["attachments"][0]["id"]
    assert shared_only.get(f"/download/{team_file}").content == b"team file"


def test_a_file_over_25_mb_is_refused_and_nothing_is_stored(dunder_mifflin: Company) -> None:
    api = dunder_mifflin.api
    before = _events(api)
    big = os.urandom(25 * 1024 * 1024 + 1)
    resp = api.post(
        "/message_templates",
        data={"name": "Too big", "body": "x"},
        files=[
            ("attachments[]", ("small.txt", b"small template file", "text/plain")),
            ("attachments[]", ("big.bin", big, "application/octet-stream")),
        ],
    )
    assert resp.status_code == 413, resp.text
    assert resp.json()["_error"]["status"] == 413
    assert api.ok("GET", "/message_templates")["_results"] == []
    assert _events(api) == before
    assert _blobs(dunder_mifflin, big) == []
    assert _blobs(dunder_mifflin, b"small template file") == []


def test_bad_input_is_a_400_and_changes_nothing(dunder_mifflin: Company) -> None:
    api = dunder_mifflin.api
    team = dunder_mifflin.team_id
    tpl = api.ok("POST", "/message_templates", 201, json={"name": "Keep", "body": "keep"})
    folder = api.ok("POST", "/message_template_folders", 201, json={"name": "Keep"})
    before = _events(api)
    bad_bodies: list[dict[str, Any]] = [
        {"name": "", "body": "x"},
        {"name": "   ", "body": "x"},
        {"name": 12, "body": "x"},
        {"name": "x" * 256, "body": "x"},
        {"name": "a\x00b", "body": "x"},
        {"name": "ok"},
        {"body": "x"},
        {"name": "ok", "body": "x", "inbox_ids": []},
        {"name": "ok", "body": "x", "inbox_ids": "inb_1"},
        {"name": "ok", "body": "x", "subject": "bell\x07"},
        {"name": "ok", "body": 5},
    ]
    for body in bad_bodies:
        resp = api.post(f"/teams/{team}/message_templates", json=body)
        assert resp.status_code == 400, (body, resp.text)
        assert resp.json()["_error"]["status"] == 400
    for body in ({"name": ""}, {"name": None}, {"inbox_ids": []}, {"attachments": ["x"]}):
        resp = api.patch(f"/message_templates/{tpl['id']}", json=body)
        assert resp.status_code == 400, (body, resp.text)
    for body in ({"name": ""}, {"name": 1}, {"parent_folder_id": 3}, {}):
        resp = api.post("/message_template_folders", json=body)
        assert resp.status_code == 400, (body, resp.text)
    assert (
        api.patch(f"/message_template_folders/{folder['id']}", json={"name": ""}).status_code == 400
    )
    # Unknown references are 404s, and change nothing either.
    for body in (
        {"name": "ok", "body": "x", "folder_id": "rsf_zzzz"},
        {"name": "ok", "body": "x", "inbox_ids": ["inb_zzzz"]},
    ):
        assert api.post(f"/teams/{team}/message_templates", json=body).status_code == 404
    assert api.get("/message_templates/rsp_zzzz").status_code == 404
    assert api.get("/message_template_folders/tag_1").status_code == 404
    assert api.get("/message_templates", params={"sort_by": "name"}).status_code == 400
    assert (
        api.get("/message_template_folders", params={"page_token": "WyJhIiwxXQ"}).status_code == 400
    )
    assert _events(api) == before
    assert api.ok("GET", f"/message_templates/{tpl['id']}")["name"] == "Keep"


def test_lists_page_and_sort(api: Api) -> None:
    made = [
        api.ok("POST", "/message_templates", 201, json={"name": f"t{i}", "body": "x"})["id"]
        for i in range(5)
    ]
    first = api.ok("GET", "/message_templates", params={"limit": 2})
    assert [t["id"] for t in first["_results"]] == made[:2]
    assert first["_pagination"]["next"]
    assert [t["id"] for t in api.all_pages("/message_templates", limit=2)] == made
    newest = api.all_pages("/message_templates", limit=2, sort_by="created_at", sort_order="desc")
    assert [t["id"] for t in newest] == made[::-1]
    api.ok("PATCH", f"/message_templates/{made[1]}", json={"name": "touched"})
    by_update = api.all_pages("/message_templates", limit=3, sort_by="updated_at")
    assert [t["id"] for t in by_update][-1] == made[1]
    folders = [
        api.ok("POST", "/message_template_folders", 201, json={"name": f"f{i}"})["id"]
        for i in range(3)
    ]
    assert [f["id"] for f in api.all_pages("/message_template_folders", limit=1)] == folders
    desc = api.all_pages(
        "/message_template_folders", limit=2, sort_by="created_at", sort_order="desc"
    )
    assert [f["id"] for f in desc] == folders[::-1]


def test_another_companys_templates_are_not_found(
    dunder_mifflin: Company, vance_refrigeration: Company
) -> None:
    api = dunder_mifflin.api
    folder = api.ok("POST", "/message_template_folders", 201, json={"name": "Ours"})
    tpl = api.post(
        "/message_templates",
        data={"name": "Ours", "body": "ours", "folder_id": folder["id"]},
        files=[("attachments[]", ("ours.txt", b"ours", "text/plain"))],
    ).json()
    file_id = tpl["attachments"][0]["id"]
    bob = vance_refrigeration.api
    for method, path, body in (
        ("GET", f"/message_templates/{tpl['id']}", None),
        ("PATCH", f"/message_templates/{tpl['id']}", {"name": "Refrigerators"}),
        ("DELETE", f"/message_templates/{tpl['id']}", None),
        ("GET", f"/message_templates/{tpl['id']}/download/{file_id}", None),
        ("GET", f"/download/{file_id}", None),
        ("GET", f"/message_template_folders/{folder['id']}", None),
        ("PATCH", f"/message_template_folders/{folder['id']}", {"name": "Cold"}),
        ("DELETE", f"/message_template_folders/{folder['id']}", None),
        ("GET", f"/message_template_folders/{folder['id']}/message_templates", None),
        (
            "POST",
            f"/message_template_folders/{folder['id']}/message_templates",
            {"name": "x", "body": "x"},
        ),
        (
            "POST",
            f"/message_template_folders/{folder['id']}/message_template_folders",
            {"name": "x"},
        ),
        ("POST", f"/teams/{dunder_mifflin.team_id}/message_templates", {"name": "x", "body": "x"}),
        (
            "POST",
            f"/teammates/{dunder_mifflin.admin_id}/message_templates",
            {"name": "x", "body": "x"},
        ),
    ):
        resp = bob.request(method, path, json=body)
        assert resp.status_code == 404, (method, path, resp.status_code)
    # Their own template cannot be put into our folder either.
    resp = bob.post(
        "/message_templates", json={"name": "x", "body": "x", "folder_id": folder["id"]}
    )
    assert resp.status_code == 404
    assert bob.ok("GET", "/message_templates")["_results"] == []
    assert bob.ok("GET", "/message_template_folders")["_results"] == []
    assert api.ok("GET", f"/message_templates/{tpl['id']}") == tpl
