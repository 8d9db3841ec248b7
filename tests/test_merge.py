"""Merging conversations (admin API and CLI): the survivor takes everything, and every route
of a merged conversation answers 301 to the same route of the survivor."""

from __future__ import annotations

import os
import subprocess

import pytest

from porch.api import all_routes
from tests.conftest import Company
from tests.test_cli_admin import PORCH


def _task(company: Company, subject: str, inbox: str) -> str:
    body = company.api.ok(
        "POST", "/conversations", 201, json={"type": "task", "subject": subject, "inbox_id": inbox}
    )
    return str(body["id"])


def _tag(company: Company, conversation: str, tag: str) -> None:
    company.api.ok("POST", f"/conversations/{conversation}/tags", 204, json={"tag_ids": [tag]})


def _setup(company: Company) -> tuple[str, str, dict[str, str]]:
    api = company.api
    inbox = api.ok("POST", f"/teams/{company.team_id}/inboxes", 201, json={"name": "Sales"})["id"]
    survivor, old = _task(company, "Survivor", inbox), _task(company, "Old", inbox)
    tags = {
        n: api.ok("POST", "/company/tags", 201, json={"name": n})["id"] for n in ("a", "b", "both")
    }
    _tag(company, survivor, tags["a"])
    _tag(company, survivor, tags["both"])
    _tag(company, old, tags["b"])
    _tag(company, old, tags["both"])
    for cid, urls in ((survivor, ["https://x.test/1", "https://x.test/both"]),
                      (old, ["https://x.test/2", "https://x.test/both"])):  # fmt: skip
        api.ok("POST", f"/conversations/{cid}/links", 204, json={"link_external_urls": urls})
    return survivor, old, tags


def _served(method: str, path: str) -> bool:
    return any(op.method == method and op.path == path for op in all_routes())


def test_merge_moves_everything_and_redirects(dunder_mifflin: Company) -> None:
    api = dunder_mifflin.api
    survivor, old, tags = _setup(dunder_mifflin)
    merged = api.ok(
        "POST", f"/porch/conversations/{survivor}/merge", json={"conversation_ids": [old]}
    )
    assert merged["id"] == survivor
    after = api.ok("GET", f"/conversations/{survivor}")
    assert sorted(t["id"] for t in after["tags"]) == sorted(tags.values())
    assert sorted(lk["external_url"] for lk in after["links"]) == [
        "https://x.test/1",
        "https://x.test/2",
        "https://x.test/both",
    ]
    # Only the survivor is listed, first (its activity was bumped).
    assert [c["id"] for c in api.ok("GET", "/conversations")["_results"]] == [survivor]

    resp = api.get(f"/conversations/{old}", params={"x": "1"})
    assert resp.status_code == 301
    assert resp.headers["location"] == f"{api.base_url}/conversations/{survivor}?x=1"
    resp = api.post(
        f"/conversations/{old}/links", json={"link_external_urls": ["https://x.test/3"]}
    )
    assert resp.status_code == 301
    assert resp.headers["location"] == f"{api.base_url}/conversations/{survivor}/links"
    assert "https://x.test/3" not in [lk["external_url"] for lk in api.all_pages("/links")]
    resp = api.delete(f"/conversations/{old}/links", json={"link_ids": []})
    assert resp.headers["location"] == f"{api.base_url}/conversations/{survivor}/links"
    # Routes other modules serve, as they land.
    for method, tail in (("PATCH", ""), ("GET", "/comments"), ("GET", "/inboxes")):
        if _served(method, "/conversations/{conversation_id}" + tail):
            resp = api.request(method, f"/conversations/{old}{tail}", json={})
            assert resp.status_code == 301, (method, tail, resp.text)
            assert resp.headers["location"] == f"{api.base_url}/conversations/{survivor}{tail}"

    events = api.all_pages("/porch/events", **{"q[types]": "conversations_merged"})
    assert [e["conversation"]["id"] for e in events] == [survivor]
    assert events[0]["target"]["_meta"]["type"] == "deleted_conversation_ids"
    assert events[0]["data"]["deleted_conversation_ids"] == [old]
    public = api.ok("GET", "/events", params={"q[types]": "conversations_merged"})["_results"]
    assert [e["id"] for e in public] == [events[0]["id"]]


def test_merge_refuses_bad_requests_and_changes_nothing(
    dunder_mifflin: Company, vance_refrigeration: Company
) -> None:
    api = dunder_mifflin.api
    survivor, old, _ = _setup(dunder_mifflin)
    path = f"/porch/conversations/{survivor}/merge"
    assert api.post(path, json={"conversation_ids": [survivor]}).status_code == 400
    assert api.post(path, json={"conversation_ids": []}).status_code == 400
    assert api.post(path, json={"conversation_ids": [old, "cnv_zzzzzz"]}).status_code == 404
    bob_inbox = vance_refrigeration.api.ok(
        "POST", f"/teams/{vance_refrigeration.team_id}/inboxes", 201, json={"name": "Bob"}
    )["id"]
    bob_conv = _task(vance_refrigeration, "Bob's", bob_inbox)
    assert api.post(path, json={"conversation_ids": [bob_conv]}).status_code == 404
    # Only provisioning tokens merge.
    shared = dunder_mifflin.client(dunder_mifflin.token(namespaces=["shared"]))
    assert shared.post(path, json={"conversation_ids": [old]}).status_code == 403
    assert api.ok("GET", f"/conversations/{old}")["id"] == old
    assert api.all_pages("/porch/events", **{"q[types]": "conversations_merged"}) == []
    # Once merged, a source cannot be merged again.
    api.ok("POST", path, json={"conversation_ids": [old]})
    assert api.post(path, json={"conversation_ids": [old]}).status_code == 409


def test_chained_merges_redirect_to_the_last_survivor(dunder_mifflin: Company) -> None:
    api = dunder_mifflin.api
    inbox = api.ok("POST", f"/teams/{dunder_mifflin.team_id}/inboxes", 201, json={"name": "C"})
    first, second, third = (_task(dunder_mifflin, s, inbox["id"]) for s in ("1", "2", "3"))
    api.ok("POST", f"/porch/conversations/{second}/merge", json={"conversation_ids": [first]})
    api.ok("POST", f"/porch/conversations/{third}/merge", json={"conversation_ids": [second]})
    resp = api.get(f"/conversations/{first}")
    assert resp.status_code == 301
    assert resp.headers["location"] == f"{api.base_url}/conversations/{third}"


def test_cli_merge(dunder_mifflin: Company) -> None:
    if not PORCH.exists():
        pytest.skip("the porch console script is not installed")
    api = dunder_mifflin.api
    survivor, old, tags = _setup(dunder_mifflin)
    settings = dunder_mifflin.server.settings
    env = {k: v for k, v in os.environ.items() if not k.startswith("PORCH_")}
    env["PORCH_DATABASE_URL"] = settings.database_url
    cmd = [str(PORCH), "conversations", "merge", "--data-dir", str(settings.data_dir)]
    cmd += ["--company", dunder_mifflin.id, "--json", survivor, old]
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert f'"id": "{survivor}"' in done.stdout and old in done.stdout
    assert api.get(f"/conversations/{old}").status_code == 301
    assert len(api.ok("GET", f"/conversations/{survivor}")["tags"]) == len(tags)
    again = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120, check=False)
    assert again.returncode != 0 and "merged" in again.stderr
