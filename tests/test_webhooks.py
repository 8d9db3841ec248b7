"""Application and rule webhooks through the real server: registration with the sync
challenge, the events each subscription receives in Front's envelope, signatures checked with
a few independent lines of hmac, private targets refused, the delivery log and replay."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import orjson
import pytest

from porch import ids
from porch.events.webhooks import enqueue_rule_webhook
from porch.store.db import Database
from tests.conftest import Api, Company
from tests.webhook_receiver import Receiver, app_signature_ok, rule_signature_ok


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.close()


def allow_loopback(api: Api) -> None:
    api.ok("PATCH", "/porch/company", json={"allow_private_webhook_targets": True})


def make_app(api: Api, url: str, subscriptions: list[str]) -> dict[str, Any]:
    return api.ok(  # type: ignore[no-any-return]
        "POST",
        "/porch/applications",
        201,
        json={"name": "Dundie Awards", "webhook_url": url, "subscriptions": subscriptions},
    )


def assert_same_event(sent: dict[str, Any], listed: dict[str, Any]) -> None:
    """A webhook's event is GET /events' rendering (links aside: the server here has no
    public URL, so a request names its own host)."""
    assert set(sent) == set(listed)
    for key in ("id", "type", "emitted_at", "source"):
        assert sent[key] == listed[key], key
    assert sent["conversation"]["id"] == listed["conversation"]["id"]
    assert set(sent["conversation"]) == set(listed["conversation"])
    if "target" in listed:
        assert sent["target"]["_meta"] == listed["target"]["_meta"]


def shared_conversation(company: Company) -> tuple[str, str]:
    """A conversation in a new team inbox: (conversation id, inbox id)."""
    api = company.api
    inbox = api.ok("POST", f"/teams/{company.team_id}/inboxes", 201, json={"name": "Sales"})
    conv = api.ok(
        "POST",
        "/conversations",
        201,
        json={"type": "task", "subject": "Paper order", "inbox_id": inbox["id"]},
    )
    return conv["id"], inbox["id"]


def test_app_receives_its_events_in_fronts_envelope_signed(
    dunder_mifflin: Company, receiver: Receiver
) -> None:
    api = dunder_mifflin.api
    allow_loopback(api)
    app = make_app(api, receiver.url, ["tag_added", "conversation_archived"])
    assert app["secret"] and app["uid"] and app["state"] == "enabled"
    # The sync challenge came first, signed with the app secret.
    [sync] = [h for h in receiver.hits if "x-front-challenge" in h.headers]
    assert sync.json() == {"type": "sync", "authorization": {"id": dunder_mifflin.id}}
    assert app_signature_ok(app["secret"], sync)

    conv, _ = shared_conversation(dunder_mifflin)
    tag = api.ok("POST", "/company/tags", 201, json={"name": "paper"})["id"]
    api.ok("POST", f"/conversations/{conv}/tags", 204, json={"tag_ids": [tag]})
    api.ok("PATCH", f"/conversations/{conv}", 204, json={"status": "archived"})
    api.ok("PATCH", f"/conversations/{conv}", 204, json={"status": "open"})  # not subscribed

    hits = receiver.wait(lambda h: len(h) >= 2)
    assert [h.json()["type"] for h in hits] == ["tag_added", "conversation_archived"]
    for hit in hits:
        assert app_signature_ok(app["secret"], hit)
        env = hit.json()
        assert env["authorization"] == {"id": dunder_mifflin.id}
        payload = env["payload"]
        assert payload["id"].startswith("evt_")
        assert payload["conversation"]["id"] == conv
        # The same rendering as GET /events.
        assert_same_event(payload, api.ok("GET", f"/events/{payload['id']}"))
    assert hits[0].json()["payload"]["target"]["data"]["id"] == tag

    # The delivery log shows each delivery with its attempt.
    deadline = time.monotonic() + 10
    while True:  # the receiver may see the POST before the worker records its outcome
        log = api.ok(
            "GET",
            "/porch/webhooks/deliveries",
            params={"subscription_id": app["webhook_subscription_id"]},
        )["_results"]
        if all(d["state"] == "delivered" for d in log) or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert {d["type"] for d in log} == {"tag_added", "conversation_archived"}
    assert all(d["state"] == "delivered" and d["attempts"][0]["status_code"] == 200 for d in log)
    receiver.wait(lambda h: len(h) == 2, seconds=1)


def test_other_companies_events_and_apps_stay_apart(
    dunder_mifflin: Company, vance_refrigeration: Company, receiver: Receiver
) -> None:
    allow_loopback(dunder_mifflin.api)
    make_app(dunder_mifflin.api, receiver.url, ["conversation_archived"])
    conv, _ = shared_conversation(vance_refrigeration)
    vance_refrigeration.api.ok("PATCH", f"/conversations/{conv}", 204, json={"status": "archived"})
    mine, _ = shared_conversation(dunder_mifflin)
    dunder_mifflin.api.ok("PATCH", f"/conversations/{mine}", 204, json={"status": "archived"})
    hits = receiver.wait(lambda h: len(h) >= 1)
    assert [h.json()["payload"]["conversation"]["id"] for h in hits] == [mine]
    # Another company cannot read or change the app.
    assert vance_refrigeration.api.get("/porch/webhooks/subscriptions").json()["_results"] == []


@pytest.mark.parametrize("echo", ["text", "form", "json"])
def test_sync_challenge_accepts_each_echo_form(
    dunder_mifflin: Company, receiver: Receiver, echo: str
) -> None:
    allow_loopback(dunder_mifflin.api)
    receiver.echo = echo
    make_app(dunder_mifflin.api, receiver.url, ["tag_added"])


@pytest.mark.parametrize(
    ("echo", "status", "says"),
    [("wrong", 200, "does not echo"), ("ignore", 200, "does not echo"), ("text", 500, "500")],
)
def test_sync_challenge_failures_refuse_the_save(
    dunder_mifflin: Company, receiver: Receiver, echo: str, status: int, says: str
) -> None:
    api = dunder_mifflin.api
    allow_loopback(api)
    receiver.echo, receiver.status = echo, status
    resp = api.post(
        "/porch/applications",
        json={"name": "Bad", "webhook_url": receiver.url, "subscriptions": ["tag_added"]},
    )
    assert resp.status_code == 400
    assert says in resp.json()["_error"]["message"]
    assert api.ok("GET", "/porch/applications")["_results"] == []
    # A later PATCH of a good app to this URL is refused the same way.
    receiver.echo, receiver.status = "text", 200
    app = make_app(api, receiver.url, ["tag_added"])
    receiver.echo, receiver.status = echo, status
    resp = api.patch(f"/porch/applications/{app['uid']}", json={"webhook_url": receiver.url + "2"})
    assert resp.status_code == 400
    assert api.ok("GET", f"/porch/applications/{app['uid']}")["webhook_url"] == receiver.url


def test_sync_challenge_timeout(dunder_mifflin: Company, receiver: Receiver) -> None:
    if dunder_mifflin.server.backend != "sqlite":
        pytest.skip("a 10 s wait; once is enough")
    api = dunder_mifflin.api
    allow_loopback(api)
    receiver.delay = 11
    resp = api.post(
        "/porch/applications",
        json={"name": "Slow", "webhook_url": receiver.url},
        timeout=30,
    )
    assert resp.status_code == 400
    assert "within 10 s" in resp.json()["_error"]["message"]


def test_private_targets_are_refused_unless_allowed(
    dunder_mifflin: Company, receiver: Receiver
) -> None:
    api = dunder_mifflin.api
    for url in (receiver.url, "http://10.1.2.3/hook", "http://169.254.169.254/", "http://[::1]/x"):
        resp = api.post("/porch/applications", json={"name": "Inside", "webhook_url": url})
        assert resp.status_code == 400, url
        assert "private" in resp.json()["_error"]["message"]
    assert (
        api.post("/porch/applications", json={"name": "x", "webhook_url": "ftp://a/"}).status_code
        == 400
    )
    assert api.ok("GET", "/porch/company")["allow_private_webhook_targets"] is False
    allow_loopback(api)
    make_app(api, receiver.url, [])


def test_bad_input_changes_nothing(dunder_mifflin: Company) -> None:
    api = dunder_mifflin.api
    for body in (
        {"name": "x", "subscriptions": ["no_such_event"]},
        {"name": ""},
        {"name": "x", "redirect_uris": ["not a url"]},
        {"name": "x", "webhook_url": 5},
    ):
        assert api.post("/porch/applications", json=body).status_code == 400, body
    assert api.ok("GET", "/porch/applications")["_results"] == []
    assert api.get("/porch/applications/nope").status_code == 404
    assert api.get("/porch/webhooks/deliveries/whd_zz").status_code == 404


def test_app_crud_and_admin_only(dunder_mifflin: Company) -> None:
    api = dunder_mifflin.api
    app = api.ok("POST", "/porch/applications", 201, json={"name": "Scranton Strangler"})
    assert app["webhook_url"] is None
    got = api.ok("GET", f"/porch/applications/{app['uid']}")
    assert got["secret"] == app["secret"]
    changed = api.ok(
        "PATCH",
        f"/porch/applications/{app['uid']}",
        json={"name": "Threat Level Midnight", "redirect_uris": ["https://example.com/cb"]},
    )
    assert changed["name"] == "Threat Level Midnight"
    assert changed["redirect_uris"] == ["https://example.com/cb"]
    plain = dunder_mifflin.client(dunder_mifflin.token(namespaces=["shared"]))
    assert plain.get("/porch/applications").status_code == 403
    api.ok("DELETE", f"/porch/applications/{app['uid']}", 204)
    assert api.get(f"/porch/applications/{app['uid']}").status_code == 404


def _queue_rule_webhook(company: Company, url: str, event_id: str, preview: bool) -> None:
    async def go(db: Database) -> None:
        async with db.transaction() as tx:
            for _ in range(2):  # queued twice: delivered once
                await enqueue_rule_webhook(
                    tx,
                    company_id=company.key,
                    rule_id=7,
                    url=url,
                    event_id=ids.decode(ids.EVENT, event_id) or 0,
                    preview=preview,
                )

    company.server.run(go)


def test_rule_webhook_signed_with_the_api_secret(
    dunder_mifflin: Company, receiver: Receiver
) -> None:
    api = dunder_mifflin.api
    allow_loopback(api)
    conv, _ = shared_conversation(dunder_mifflin)
    api.ok("PATCH", f"/conversations/{conv}", 204, json={"status": "archived"})
    event = api.ok("GET", "/events", params={"q[types]": "archive"})["_results"][0]
    _queue_rule_webhook(dunder_mifflin, receiver.url + "/full", event["id"], False)
    _queue_rule_webhook(dunder_mifflin, receiver.url + "/preview", event["id"], True)
    hits = receiver.wait(lambda h: len(h) >= 2)
    secret = api.ok("GET", "/porch/company/api_secret")["api_secret"]
    by_kind = {
        ("preview" if h.json()["conversation"].keys() <= {"_links", "id"} else "full"): h
        for h in hits
    }
    assert_same_event(by_kind["full"].json(), event)
    preview = by_kind["preview"].json()
    assert preview["id"] == event["id"] and preview["conversation"]["id"] == conv
    assert all(rule_signature_ok(secret, h) for h in hits)
    # After a rotation, new deliveries carry the new signature.
    new = api.ok("POST", "/porch/company/api_secret")["api_secret"]
    assert new != secret
    subs = api.ok("GET", "/porch/webhooks/subscriptions")["_results"]
    full_sub = next(s for s in subs if s["url"].endswith("/full"))
    assert full_sub["kind"] == "rule"
    api.ok(
        "POST",
        "/porch/webhooks/replay",
        202,
        json={"subscription_id": full_sub["id"], "which": "all"},
    )
    hits = receiver.wait(lambda h: len(h) >= 3)
    assert hits[2].json()["id"] == event["id"]
    assert rule_signature_ok(new, hits[2])
    receiver.wait(lambda h: len(h) == 3, seconds=1)


def test_replay_one_delivery_sends_the_same_event(
    dunder_mifflin: Company, receiver: Receiver
) -> None:
    api = dunder_mifflin.api
    allow_loopback(api)
    app = make_app(api, receiver.url, ["conversation_archived"])
    conv, _ = shared_conversation(dunder_mifflin)
    api.ok("PATCH", f"/conversations/{conv}", 204, json={"status": "archived"})
    [first] = receiver.wait(lambda h: len(h) >= 1)
    [delivery] = api.ok("GET", "/porch/webhooks/deliveries")["_results"]
    api.ok("POST", f"/porch/webhooks/deliveries/{delivery['id']}/replay", 202)
    hits = receiver.wait(lambda h: len(h) >= 2)
    assert hits[1].body == first.body
    assert app_signature_ok(app["secret"], hits[1])
    deadline = time.monotonic() + 10
    while True:  # the receiver may see the POST before the worker records its outcome
        shown = api.ok("GET", f"/porch/webhooks/deliveries/{delivery['id']}")
        if len(shown["attempts"]) == 2 or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert [a["status_code"] for a in shown["attempts"]] == [200, 200]
    assert shown["state"] == "delivered" and orjson.loads(shown["body"]) == first.json()
