"""The Python SDK (``porch.client``) against a real Porch: typed resources and errors,
pagination, aliases, uploads and downloads, the raw ``request()``, and the async client.
Rate limits and retries are in test_client_retries.py."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import httpx
import pytest

from porch.client import (
    ApiError,
    BadRequest,
    Client,
    Conflict,
    Forbidden,
    NotFound,
    Unauthorized,
)
from tests.clients import Hook, async_client_of, client_of
from tests.conftest import Company

T = TypeVar("T")


@pytest.fixture
def client(dunder_mifflin: Company) -> Iterator[Client]:
    c, _ = client_of(dunder_mifflin)
    with c:
        yield c


@pytest.fixture
def hook() -> Iterator[Hook]:
    h = Hook()
    yield h
    h.close()


def eventually(fetch: Callable[[], T], seconds: float = 15.0) -> T:
    """``fetch()`` once it stops raising NotFound (a message is written just after its 202)."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            return fetch()
        except NotFound:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.02)


def test_tags_round_trip(dunder_mifflin: Company, client: Client) -> None:
    assert client.me()["id"] == dunder_mifflin.id
    tag = client.tags.create(name="Urgent", highlight="red")
    assert tag["id"].startswith("tag_") and tag["highlight"] == "red"
    assert client.tags.get(tag["id"]) == tag
    assert client.tags.update(tag["id"], name="Very urgent") is None
    assert client.tags.get(tag["id"])["name"] == "Very urgent"
    child = client.tags.create(name="Later", parent_tag_id=tag["id"])
    assert [t["id"] for t in client.tags.children(tag["id"])] == [child["id"]]
    team_tag = client.tags.create(name="Sales only", team_id=dunder_mifflin.team_id)
    assert [t["id"] for t in client.tags.list(team_id=dunder_mifflin.team_id)] == [team_tag["id"]]
    assert {t["id"] for t in client.tags.list(company=True)} == {tag["id"], child["id"]}
    client.tags.delete(tag["id"])
    with pytest.raises(NotFound):
        client.tags.get(tag["id"])
    # Every answer reported the company's budget.
    assert client.rate_limit.limit == 100_000
    assert client.rate_limit.remaining is not None and client.rate_limit.remaining < 100_000
    assert client.rate_limit.reset is not None and client.rate_limit.reset > time.time()


def test_errors_are_typed_from_the_envelope(dunder_mifflin: Company, client: Client) -> None:
    with pytest.raises(BadRequest) as bad:
        client.tags.create(name="")
    assert bad.value.status == 400 and bad.value.title == "Bad request"
    assert bad.value.details and all(isinstance(d, str) for d in bad.value.details)
    assert bad.value.response.status_code == 400
    assert str(bad.value).startswith("400 Bad request")

    with pytest.raises(NotFound) as missing:
        client.tags.get("tag_zzzzzz")
    assert missing.value.status == 404 and missing.value.message

    client.tags.create(name="VIP")
    with pytest.raises(Conflict) as clash:
        client.tags.create(name="VIP")
    assert clash.value.status == 409 and "VIP" in clash.value.message

    with (
        Client(dunder_mifflin.server.url, "not-a-token") as stranger,
        pytest.raises(Unauthorized) as who,
    ):
        stranger.me()
    assert who.value.status == 401

    reader = dunder_mifflin.token(permissions=["read"])
    with Client(dunder_mifflin.server.url, reader) as read_only:
        assert read_only.tags.get(client.tags.create(name="Readable")["id"])["name"] == "Readable"
        with pytest.raises(Forbidden):
            read_only.tags.create(name="Not allowed")

    with pytest.raises(ApiError) as route:
        client.request("GET", "/no/such/route")
    assert isinstance(route.value, NotFound)


def test_raw_request_takes_paths_and_full_urls(dunder_mifflin: Company, client: Client) -> None:
    base = dunder_mifflin.server.url
    made = client.request("POST", f"{base}/company/tags", json={"name": "By URL"})
    assert made["name"] == "By URL"
    assert client.post("/company/tags", json={"name": "By path"})["name"] == "By path"
    first = client.get("/tags", params={"limit": 1})
    assert [t["name"] for t in first["_results"]] == ["By URL"]
    nxt = first["_pagination"]["next"]
    assert nxt.startswith(base + "/tags?")
    assert [t["name"] for t in client.get(nxt)["_results"]] == ["By path"]
    assert client.delete(f"/tags/{made['id']}") is None
    # Front's q[...] filters from a nested mapping.
    assert client.get("/conversations", params={"q": {"statuses": ["archived"]}})["_results"] == []


def test_pagination_follows_next_over_many_tags(dunder_mifflin: Company) -> None:
    c, seen = client_of(dunder_mifflin)
    with c:
        made = [c.tags.create(name=f"tag {i:03}")["id"] for i in range(120)]
        before = len(seen.seen)
        assert [t["id"] for t in c.tags.list(page_size=25)] == made
        pages = list(c.pages("/tags", {"limit": 25}))
    assert [len(p["_results"]) for p in pages] == [25, 25, 25, 25, 20]
    assert pages[-1]["_pagination"]["next"] is None
    # Each page after the first was fetched at the URL the previous one gave, unchanged.
    urls = [s.url for s in seen.seen[before : before + 5]]
    assert urls[0].endswith("/tags?limit=25")
    assert urls[1:] == [p["_pagination"]["next"] for p in pages[:-1]]
    # A lazy iterator: taking two items fetches one page.
    lazy, seen_lazily = client_of(dunder_mifflin)
    with lazy:
        it = lazy.tags.list(page_size=2)
        assert [next(it)["id"] for _ in range(2)] == made[:2]
        assert len(seen_lazily.seen) == 1


def test_pagination_over_conversations_and_search_totals(
    dunder_mifflin: Company, client: Client
) -> None:
    inbox = client.inboxes.create(name="Paged", team_id=dunder_mifflin.team_id)
    made = {
        client.conversations.create(type="task", subject=f"Task {i}", inbox_id=inbox["id"])["id"]
        for i in range(45)
    }
    assert {c["id"] for c in client.inboxes.conversations(inbox["id"], page_size=10)} == made
    assert {c["id"] for c in client.conversations.list(page_size=20)} >= made
    # Search is indexed just after the writes: its pages carry the total.
    query = f"inbox:{inbox['id']}"
    deadline = time.monotonic() + 15
    while True:
        found = [c["id"] for c in client.conversations.search(query, page_size=20)]
        if len(found) == 45 or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert set(found) == made
    first = next(client.pages(f"/conversations/search/{query}", {"limit": 20}))
    assert first["_total"] == 45 and len(first["_results"]) == 20


def test_aliases_name_objects(dunder_mifflin: Company, client: Client) -> None:
    admin = dunder_mifflin.admin_id
    assert client.teammates.get("alt:email:michael@dundermifflin.com")["id"] == admin
    assert client.teammates.get("michael@dundermifflin.com")["id"] == admin
    with pytest.raises(NotFound):
        client.teammates.get("alt:email:toby@dundermifflin.com")
    inbox = client.inboxes.create(name="Mail", team_id=dunder_mifflin.team_id)
    address = f"sales-{dunder_mifflin.key}@dundermifflin.com"
    assert client.inboxes.create_channel(inbox["id"], type="smtp", send_as=address) is None
    (channel,) = client.inboxes.channels(inbox["id"])
    assert client.channels.get(f"alt:address:{address}")["id"] == channel["id"]
    with pytest.raises(NotFound):
        client.channels.get("alt:address:nobody@dundermifflin.com")


def test_custom_channel_messages_comments_and_files(
    dunder_mifflin: Company, client: Client, hook: Hook
) -> None:
    inbox = client.inboxes.create(name="Bots", team_id=dunder_mifflin.team_id)
    client.inboxes.create_channel(
        inbox["id"], type="custom", name="Chat", settings={"webhook_url": hook.url}
    )
    (channel,) = client.inboxes.channels(inbox["id"])
    accepted = client.channels.incoming_message(
        channel["id"],
        sender_handle="jim@athlead.com",
        sender_name="Jim",
        subject="Hello",
        body="Is Dwight there?",
        thread_ref="thread-1",
    )
    assert accepted["status"] == "accepted"
    message = eventually(lambda: client.messages.get(f"alt:uid:{accepted['message_uid']}"))
    assert message["body"].strip().startswith("Is Dwight there?") and message["is_inbound"]
    conversation_id = message["_links"]["related"]["conversation"].rsplit("/", 1)[-1]
    conversation = client.conversations.get(conversation_id)
    assert conversation["subject"] == "Hello"

    # Tags, assignment and its undoing, and the events they leave.
    tag = client.tags.create(name="Prank")
    client.conversations.add_tags(conversation_id, tag_ids=[tag["id"]])
    assert [t["id"] for t in client.conversations.get(conversation_id)["tags"]] == [tag["id"]]
    client.conversations.remove_tags(conversation_id, tag_ids=[tag["id"]])
    client.conversations.assign(conversation_id, assignee_id=dunder_mifflin.admin_id)
    assert client.conversations.get(conversation_id)["assignee"]["id"] == dunder_mifflin.admin_id
    client.conversations.update(conversation_id, assignee_id=None)
    assert client.conversations.get(conversation_id)["assignee"] is None
    kinds = [e["type"] for e in client.conversations.events(conversation_id)]
    assert {"tag", "untag", "assign", "unassign"} <= set(kinds)
    assert any(e["type"] == "assign" for e in client.events.list(types=["assign"]))

    # A reply on the channel, found by its uid.
    reply = client.messages.reply(
        conversation_id, body="He is not", to=["jim@athlead.com"], archive=False
    )
    sent = eventually(lambda: client.messages.get(f"alt:uid:{reply['message_uid']}"))
    assert sent["is_inbound"] is False
    assert {m["id"] for m in client.conversations.messages(conversation_id)} >= {
        message["id"],
        sent["id"],
    }

    # A reply with a file: multipart, the options as nested form fields.
    with_file = client.messages.reply(
        conversation_id,
        body="See attached",
        to=["jim@athlead.com"],
        archive=False,
        tag_ids=[tag["id"]],
        attachments=[("memo.json", b'{"from": "Dwight"}', "application/json")],
    )
    memo = eventually(lambda: client.messages.get(f"alt:uid:{with_file['message_uid']}"))
    (memo_file,) = memo["attachments"]
    # Bytes as they are, even when they are JSON.
    assert client.download(memo_file["url"]) == b'{"from": "Dwight"}'
    assert [t["id"] for t in client.conversations.get(conversation_id)["tags"]] == [tag["id"]]

    # A comment with a file (multipart), downloaded back as bytes.
    comment = client.conversations.add_comment(
        conversation_id,
        body="Jello, stapler",
        attachments=[("stapler.txt", b"in jello", "text/plain")],
    )
    (attachment,) = comment["attachments"]
    assert attachment["filename"] == "stapler.txt"
    assert client.download(attachment["url"]) == b"in jello"
    assert [c["id"] for c in client.conversations.comments(conversation_id)] == [comment["id"]]


def test_async_client_runs_concurrent_calls(dunder_mifflin: Company) -> None:
    async def go() -> None:
        client, seen = async_client_of(dunder_mifflin)
        async with client:
            me = await client.me()
            assert me["id"] == dunder_mifflin.id
            made = await asyncio.gather(
                *(client.tags.create(name=f"async {i:02}") for i in range(20))
            )
            names = [t["name"] async for t in client.tags.list(page_size=7)]
            assert sorted(names) == sorted(t["name"] for t in made)
            pages = [p async for p in client.pages("/tags", {"limit": 7})]
            assert [len(p["_results"]) for p in pages] == [7, 7, 6]
            with pytest.raises(NotFound):
                await client.tags.get("tag_zzzzzz")
            with pytest.raises(Conflict):
                await client.tags.create(name="async 00")
            assert await client.tags.delete(made[0]["id"]) is None
            assert client.rate_limit.limit == 100_000
        assert seen.statuses().count(201) == 20

    asyncio.run(go())


def test_front_shaped_urls_are_followed_unchanged() -> None:
    """Against Front itself (simulated): the base URL, the token, aliases in paths, and a
    ``next`` on another host (Front links to ``<company>.api.frontapp.com``) called as is."""
    requests: list[httpx.Request] = []
    nxt = "https://acme.api.frontapp.com/contacts?limit=2&page_token=abc%3D"

    def front(request: httpx.Request) -> httpx.Response:
        requests.append(request)
        headers = {
            "x-ratelimit-limit": "100",
            "x-ratelimit-remaining": "97",
            "x-ratelimit-reset": str(time.time() + 30),
        }
        if request.url.path == "/contacts" and "page_token" not in request.url.params:
            body: dict[str, Any] = {
                "_pagination": {"next": nxt},
                "_links": {"self": str(request.url)},
                "_results": [{"id": "crd_1"}, {"id": "crd_2"}],
            }
        elif request.url.path == "/contacts":
            body = {"_pagination": {"next": None}, "_links": {}, "_results": [{"id": "crd_3"}]}
        elif request.url.path == "/contacts/alt:email:pam@dundermifflin.com":
            body = {"id": "crd_2"}
        else:
            error = {"status": 404, "title": "Not found", "message": "Unknown"}
            return httpx.Response(404, json={"_error": error}, headers=headers)
        return httpx.Response(200, json=body, headers=headers)

    transport = httpx.MockTransport(front)
    with Client("https://api2.frontapp.com", "front-token", transport=transport) as client:
        ids = [c["id"] for c in client.contacts.list(updated_after=1700000000.5, page_size=2)]
        assert ids == ["crd_1", "crd_2", "crd_3"]
        assert client.contacts.get("alt:email:pam@dundermifflin.com")["id"] == "crd_2"
        with pytest.raises(NotFound) as missing:
            client.accounts.get("alt:domain:vance.com")
        assert missing.value.message == "Unknown"
        assert client.rate_limit.limit == 100 and client.rate_limit.remaining == 97
    first, second = requests[0], requests[1]
    assert first.url.host == "api2.frontapp.com"
    assert first.url.params["limit"] == "2"
    assert first.url.params["q[updated_after]"] == "1700000000.5"
    assert str(second.url) == nxt
    assert all(r.headers["authorization"] == "Bearer front-token" for r in requests)
    assert requests[0].headers["user-agent"].startswith("porch-client/")
    assert requests[2].url.raw_path == b"/contacts/alt:email:pam@dundermifflin.com"
    assert requests[3].url.raw_path == b"/accounts/alt:domain:vance.com"


def test_merged_conversations_lead_to_the_survivor(dunder_mifflin: Company, client: Client) -> None:
    """A merged conversation answers 301 on every route: the client repeats the call there,
    method and body included."""
    inbox = client.inboxes.create(name="Merges", team_id=dunder_mifflin.team_id)
    keep = client.conversations.create(type="task", subject="Keep", inbox_id=inbox["id"])
    gone = client.conversations.create(type="task", subject="Gone", inbox_id=inbox["id"])
    client.post(f"/porch/conversations/{keep['id']}/merge", json={"conversation_ids": [gone["id"]]})
    assert client.conversations.get(gone["id"])["id"] == keep["id"]
    tag = client.tags.create(name="Merged")
    client.conversations.add_tags(gone["id"], tag_ids=[tag["id"]])
    assert [t["id"] for t in client.conversations.get(keep["id"])["tags"]] == [tag["id"]]
    comment = client.conversations.add_comment(gone["id"], body="Followed")
    assert [c["id"] for c in client.conversations.comments(keep["id"])] == [comment["id"]]
