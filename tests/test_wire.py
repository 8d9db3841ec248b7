"""porch.client.wire, the HTTP/1.1 client under the SDK and the webhook worker, against a raw
HTTP server on loopback whose every answer the test scripts: kept-alive connections reused,
a connection the server closed while idle, chunked and close-delimited bodies, HEAD, timeouts,
refused connections, TLS, and header injection refused."""

from __future__ import annotations

import asyncio
import gzip
import ssl
import subprocess
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
import uvloop

from porch.client import wire
from porch.client._transport import WireTransport
from tests.pg import free_port

LOOPS = pytest.mark.parametrize("loop", ["asyncio", "uvloop"])
Script = Callable[[bytes], bytes | None]  # a request's head → the raw answer (None: say nothing)


@dataclass
class Teller:
    """A loopback HTTP server: reads requests (head and Content-Length body), answers each
    with its script, and counts connections and requests."""

    script: Script
    close_after_answer: bool = False
    connections: int = 0
    requests: list[bytes] = field(default_factory=list)
    writers: list[asyncio.StreamWriter] = field(default_factory=list)

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        self.writers.append(writer)
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n"):
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":")[1])
                body = await reader.readexactly(length)
                self.requests.append(head + body)
                answer = self.script(head)
                if answer is None:
                    await asyncio.sleep(3600)
                    return
                writer.write(answer)
                await writer.drain()
                if self.close_after_answer:
                    break
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()


class Tellers:
    """Starts scripted servers; all are closed when the test's block ends."""

    def __init__(self) -> None:
        self.servers: list[asyncio.Server] = []

    async def __call__(
        self, script: Script, *, tls: ssl.SSLContext | None = None, close_after_answer: bool = False
    ) -> tuple[Teller, wire.Origin]:
        teller = Teller(script, close_after_answer=close_after_answer)
        port = free_port()
        server = await asyncio.start_server(teller.handle, "127.0.0.1", port, ssl=tls)
        self.servers.append(server)
        return teller, wire.Origin("https" if tls else "http", "127.0.0.1", port)


def run(test: Callable[[Tellers], Awaitable[None]], loop: str) -> None:
    """Run ``test`` on ``loop`` (Porch serves on uvloop; the SDK runs on whatever loop its
    caller has)."""

    async def go() -> None:
        tellers = Tellers()
        try:
            await test(tellers)
        finally:
            for server in tellers.servers:
                server.close()

    if loop == "uvloop":
        uvloop.run(go())
    else:
        asyncio.run(go())


def ok(body: bytes = b'{"ok":true}', *extra: bytes) -> Script:
    head = b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n" % len(body) + b"".join(extra)
    return lambda _: head + b"\r\n" + body


@LOOPS
def test_a_kept_alive_connection_is_reused(loop: str) -> None:
    async def body(teller_at: Tellers) -> None:
        teller, origin = await teller_at(ok())
        pool = wire.Pool()
        for _ in range(5):
            answer = await pool.request("POST", origin, "/hooks?x=1", [(b"X-A", b"1")], b"{}")
            assert (answer.status, answer.body) == (200, b'{"ok":true}')
        assert teller.connections == 1
        first = teller.requests[0]
        assert first.startswith(b"POST /hooks?x=1 HTTP/1.1\r\n")
        assert b"Host: 127.0.0.1:%d\r\n" % origin.port in first
        assert b"Content-Length: 2\r\n" in first and first.endswith(b"\r\n\r\n{}")
        await pool.aclose()

    run(body, loop)


@LOOPS
def test_a_connection_the_server_closed_while_idle_is_replaced(loop: str) -> None:
    async def body(teller_at: Tellers) -> None:
        # The server answers as if it kept the connection, then closes it: the next request finds
        # it closed and goes out once on a new connection, and the server sees it once.
        teller, origin = await teller_at(ok(), close_after_answer=True)
        pool = wire.Pool()
        assert (await pool.request("GET", origin, "/a", [])).status == 200
        await asyncio.sleep(0.05)
        assert (await pool.request("GET", origin, "/b", [])).status == 200
        assert [r.split(b" ")[1] for r in teller.requests] == [b"/a", b"/b"]
        assert teller.connections == 2
        await pool.aclose()

    run(body, loop)


@LOOPS
def test_chunked_and_close_delimited_bodies_arrive_whole(loop: str) -> None:
    async def body(teller_at: Tellers) -> None:
        chunked = (
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
            b"5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"
        )
        teller, origin = await teller_at(lambda _: chunked)
        pool = wire.Pool()
        assert (await pool.request("GET", origin, "/", [])).body == b"hello world"
        assert (await pool.request("GET", origin, "/", [])).body == b"hello world"
        assert teller.connections == 1

        until_close = b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nall of it"
        teller2, origin2 = await teller_at(lambda _: until_close, close_after_answer=True)
        assert (await pool.request("GET", origin2, "/", [])).body == b"all of it"
        assert (await pool.request("GET", origin2, "/", [])).body == b"all of it"
        assert teller2.connections == 2
        await pool.aclose()

    run(body, loop)


@LOOPS
def test_head_answers_have_no_body(loop: str) -> None:
    async def body(teller_at: Tellers) -> None:
        teller, origin = await teller_at(
            lambda h: (
                b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n"
                if h.startswith(b"HEAD")
                else b"HTTP/1.1 204 No Content\r\n\r\n"
            )
        )
        pool = wire.Pool()
        head = await pool.request("HEAD", origin, "/", [])
        assert (head.status, head.body, dict(head.headers)[b"Content-Length"]) == (200, b"", b"100")
        assert (await pool.request("DELETE", origin, "/", [])).status == 204
        await pool.aclose()

    run(body, loop)


@LOOPS
def test_timeouts_and_refusals_say_whether_the_request_went_out(loop: str) -> None:
    async def body(teller_at: Tellers) -> None:
        teller, origin = await teller_at(lambda _: None)  # reads the request, never answers
        pool = wire.Pool()
        with pytest.raises(wire.ReadTimeout) as timed_out:
            await pool.request("POST", origin, "/", [], b"x", read_timeout=0.3)
        assert timed_out.value.sent and len(teller.requests) == 1

        closed = wire.Origin("http", "127.0.0.1", free_port())
        with pytest.raises(wire.ConnectError) as refused:
            await pool.request("POST", closed, "/", [], b"x")
        assert not refused.value.sent

        with pytest.raises(ValueError, match="line break"):
            await pool.request("GET", origin, "/", [(b"X-Evil", b"a\r\nX-Injected: 1")])
        assert len(teller.requests) == 1
        await pool.aclose()

    run(body, loop)


@LOOPS
def test_a_server_that_hangs_up_mid_answer_is_an_error(loop: str) -> None:
    async def body(teller_at: Tellers) -> None:
        teller, origin = await teller_at(
            lambda _: b"HTTP/1.1 200 OK\r\nContent-Length: 50\r\n\r\nonly part",
            close_after_answer=True,
        )
        pool = wire.Pool()
        with pytest.raises(wire.Disconnected) as cut:
            await pool.request("GET", origin, "/", [])
        assert cut.value.sent
        await pool.aclose()

    run(body, loop)


@LOOPS
def test_https_with_a_trusted_certificate(tmp_path: Path, loop: str) -> None:
    async def body(teller_at: Tellers) -> None:
        cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
        subprocess.run(
            ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
             "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
             "-keyout", str(key), "-out", str(cert)],
            check=True, capture_output=True,
        )  # fmt: skip
        server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        server_tls.load_cert_chain(cert, key)
        teller, origin = await teller_at(ok(b"secret"), tls=server_tls)

        untrusting = wire.Pool()
        with pytest.raises(wire.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
            await untrusting.request("GET", origin, "/", [])

        trusting = wire.Pool(ssl_context=ssl.create_default_context(cafile=str(cert)))
        assert (await trusting.request("GET", origin, "/", [])).body == b"secret"
        assert (await trusting.request("GET", origin, "/", [])).body == b"secret"
        assert teller.requests[0].startswith(b"GET / HTTP/1.1\r\nHost: 127.0.0.1:")
        await untrusting.aclose()
        await trusting.aclose()

    run(body, loop)


@LOOPS
def test_the_sdk_transport_decodes_compressed_answers_and_maps_errors(loop: str) -> None:
    # What the SDK sees through httpx: a gzip body decoded (Front compresses its answers), a
    # refused connection as httpx.ConnectError (retried by the SDK as never sent).
    packed = gzip.compress(b'{"hello":"world"}')

    async def body(teller_at: Tellers) -> None:
        teller, origin = await teller_at(
            ok(packed, b"Content-Type: application/json\r\n", b"Content-Encoding: gzip\r\n")
        )
        async with httpx.AsyncClient(transport=WireTransport()) as http:
            answer = await http.get(f"http://127.0.0.1:{origin.port}/x", params={"q": "a b"})
            assert answer.json() == {"hello": "world"}
            assert teller.requests[0].startswith(b"GET /x?q=a+b HTTP/1.1\r\n")
            with pytest.raises(httpx.ConnectError):
                await http.get(f"http://127.0.0.1:{free_port()}/")

    run(body, loop)
