"""The async client's default path, straight over porch.client.wire without httpx's models
(``porch/client/_fast.py``): the same answers, errors, pages, redirects and pacing as through
httpx, compressed answers decoded, and what it hands to httpx (odd URLs) still sent right."""

from __future__ import annotations

import asyncio
import gzip
import json
import threading
import time
import zlib
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest

from porch.client import AsyncClient, Conflict, NotFound
from tests.clients import async_client_of, token_of
from tests.conftest import Company


def test_default_client_answers_like_httpx(dunder_mifflin: Company) -> None:
    """Pages, filters, JSON bodies with non-ASCII text, and typed errors: the wire path and
    httpx's give the same results."""

    async def go() -> None:
        slow, _ = async_client_of(dunder_mifflin)
        async with AsyncClient(dunder_mifflin.server.url, token_of(dunder_mifflin)) as fast, slow:
            made = [await fast.tags.create(name=f"Ünïcode & co {i}") for i in range(5)]
            assert made[0]["name"] == "Ünïcode & co 0"
            for client in (fast, slow):
                names = [t["name"] async for t in client.tags.list(page_size=2)]
                assert sorted(names) == sorted(t["name"] for t in made)
            before = time.time() - 1
            contact = await fast.contacts.create(
                handles=[{"source": "email", "handle": "erin@dundermifflin.com"}], name="Erin"
            )
            later = {"q": {"updated_after": before}, "limit": 5}
            found = [(await c.get("/contacts", params=later))["_results"] for c in (fast, slow)]
            assert found[0] == found[1] and [c["id"] for c in found[0]] == [contact["id"]]
            errors = []
            for client in (fast, slow):
                with pytest.raises(NotFound) as missing:
                    await client.tags.get("tag_zzzzzz")
                errors.append(missing.value)
                with pytest.raises(Conflict):
                    await client.tags.create(name="Ünïcode & co 0")
            assert errors[0].message == errors[1].message and errors[0].message
            assert isinstance(errors[0].response, httpx.Response)
            assert errors[0].response.status_code == 404
            assert fast.rate_limit.limit == 100_000 and fast.rate_limit.remaining is not None
            assert fast.server_time is not None and abs(fast.server_time - time.time()) < 60
            assert fast.sent["POST"] == 7 and fast.sent["GET"] >= 4

    asyncio.run(go())


def test_default_client_follows_a_merged_conversation(dunder_mifflin: Company) -> None:
    async def go() -> None:
        async with AsyncClient(dunder_mifflin.server.url, token_of(dunder_mifflin)) as client:
            inbox = await client.inboxes.create(name="Fast merges", team_id=dunder_mifflin.team_id)
            keep = await client.conversations.create(
                type="task", subject="Keep", inbox_id=inbox["id"]
            )
            gone = await client.conversations.create(
                type="task", subject="Gone", inbox_id=inbox["id"]
            )
            body = {"conversation_ids": [gone["id"]]}
            await client.post(f"/porch/conversations/{keep['id']}/merge", json=body)
            assert (await client.conversations.get(gone["id"]))["id"] == keep["id"]
            comment = await client.conversations.add_comment(gone["id"], body="Followed")
            listed = [c["id"] async for c in client.conversations.comments(keep["id"])]
            assert listed == [comment["id"]]

    asyncio.run(go())


class _Compressing(BaseHTTPRequestHandler):
    """Answers JSON gzip- or deflate-encoded (by path), and records what it was sent."""

    protocol_version = "HTTP/1.1"
    seen: list[tuple[str, dict[str, str]]] = []

    def do_GET(self) -> None:
        self.seen.append((self.path, {k.lower(): v for k, v in self.headers.items()}))
        body = json.dumps({"path": self.path, "note": "Schrute Farms"}).encode()
        coding = "gzip" if self.path.startswith("/gzip") else "deflate"
        packed = gzip.compress(body) if coding == "gzip" else zlib.compress(body)
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Encoding", coding)
        self.send_header("Content-Length", str(len(packed)))
        self.send_header("x-ratelimit-limit", "50")
        self.send_header("x-ratelimit-remaining", "49")
        self.send_header("x-ratelimit-reset", str(time.time() + 60))
        self.end_headers()
        self.wfile.write(packed)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def compressing() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Compressing)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    _Compressing.seen = []
    yield f"http://127.0.0.1:{server.server_address[1]}/base"
    server.shutdown()
    server.server_close()


def test_compressed_answers_and_what_is_sent(compressing: str) -> None:
    async def go() -> None:
        async with AsyncClient(compressing, "schrute-token", user_agent="beets/1") as client:
            got = await client.get("/gzip/one", params={"q": {"after": "1.5"}, "limit": 2})
            assert got == {"path": "/base/gzip/one?q[after]=1.5&limit=2", "note": "Schrute Farms"}
            assert (await client.get("deflate/two"))["path"] == "/base/deflate/two"
            # A full URL (a ``next`` link) is called as it is.
            nxt = compressing.replace("/base", "/gzip/next?page_token=a%3D")
            assert (await client.get(nxt))["path"] == "/gzip/next?page_token=a%3D"
            # A character httpx must encode: sent by httpx's path, encoded.
            assert (await client.get("/gzip/bär"))["path"] == "/base/gzip/b%C3%A4r"
            assert client.rate_limit.limit == 50

    asyncio.run(go())
    paths = [p for p, _ in _Compressing.seen]
    assert paths[0] == "/base/gzip/one?q[after]=1.5&limit=2"
    assert paths[1:] == ["/base/deflate/two", "/gzip/next?page_token=a%3D", "/base/gzip/b%C3%A4r"]
    for _, headers in _Compressing.seen:
        assert headers["authorization"] == "Bearer schrute-token"
        assert headers["user-agent"] == "beets/1"
        assert "gzip" in headers["accept-encoding"]
