"""Writes that share a commit: every acknowledged one is stored, a failing one alone is lost.

SQLite commits are grouped (the writers queued behind one another share one fsync, each in its
own savepoint). The first test floods ``porch serve``, run as its own process, with concurrent
incoming messages and kills it with SIGKILL (no shutdown, no flush) right after the last 202:
every acknowledged message must be in the file read back with the stdlib, written or still in
the intake (a 202 comes before the intake worker writes the message), never both. Started
again, Porch writes what the intake held: then every message is there once, with its one
``inbound`` event. The second test mixes writes that fail inside their transaction with ones
that succeed, at once.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.conftest import Company, free_port

PORCH = Path(sys.executable).parent / "porch"
MESSAGES = 300
CONCURRENCY = 30


def _start(data_dir: Path, port: int, fresh: bool = True) -> tuple[subprocess.Popen[str], str]:
    """``porch serve`` on ``data_dir``; a fresh one prints the demo company's token."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PORCH_")}
    proc = subprocess.Popen(
        [str(PORCH), "serve", "--data-dir", str(data_dir), "--port", str(port), "--smtp-port", "0"],
        env=env,
        stdout=subprocess.PIPE if fresh else subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
        text=True,
    )
    token = ""
    if fresh:
        assert proc.stdout is not None
        deadline = time.monotonic() + 60
        for line in proc.stdout:
            if "admin API token" in line:
                token = proc.stdout.readline().strip()
                break
            if time.monotonic() > deadline:
                break
        assert token, "porch serve printed no demo token"
    for _ in range(300):
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return proc, token
        except httpx.TransportError:
            time.sleep(0.05)
    proc.kill()
    raise AssertionError("porch serve did not come up")


async def _flood(base: str, token: str, channel: str) -> list[str]:
    uids: list[str] = []
    headers = {"Authorization": f"Bearer {token}"}
    queue = list(range(MESSAGES))
    async with httpx.AsyncClient(base_url=base, headers=headers, timeout=30) as client:

        async def worker() -> None:
            while queue:
                n = queue.pop()
                body = {
                    "sender": {"handle": f"customer{n % 40}@example.com"},
                    "body": f"Order number {n} never arrived",
                    "metadata": {"thread_ref": f"order-{n % 70}"},
                }
                resp = await client.post(f"/channels/{channel}/incoming_messages", json=body)
                assert resp.status_code == 202, resp.text
                uids.append(resp.json()["message_uid"])

        await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))
    return uids


def _kill(proc: subprocess.Popen[str]) -> None:
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    if proc.stdout is not None:
        proc.stdout.close()


def _stored(db_file: Path) -> tuple[list[str], list[str], int]:
    """The uids of the messages and of the intake's rows, and the inbound events."""
    conn = sqlite3.connect(db_file)
    try:
        written = [row[0] for row in conn.execute("SELECT uid FROM messages")]
        pending = [row[0] for row in conn.execute("SELECT uid FROM intake")]
        inbound = conn.execute("SELECT count(*) FROM events WHERE type = 'inbound'").fetchone()[0]
    finally:
        conn.close()
    return written, pending, int(inbound)


def test_every_accepted_message_is_there_after_a_kill(tmp_path: Path) -> None:
    if not PORCH.exists():
        pytest.skip(f"the porch console script is not installed next to {sys.executable}")
    data_dir = tmp_path / "data"
    port = free_port()
    proc, token = _start(data_dir, port)
    base = f"http://127.0.0.1:{port}"
    try:
        api = httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"})
        team = api.get("/teams").json()["_results"][0]["id"]
        inbox = api.post(f"/teams/{team}/inboxes", json={"name": "Orders"}).json()["id"]
        assert api.post(f"/inboxes/{inbox}/channels", json={"type": "custom"}).status_code == 204
        channel = api.get(f"/inboxes/{inbox}/channels").json()["_results"][0]["id"]
        api.close()
        uids = asyncio.run(_flood(base, token, channel))
    finally:
        _kill(proc)
    assert len(uids) == len(set(uids)) == MESSAGES
    [db_file] = list(data_dir.glob("*.db"))
    written, pending, inbound = _stored(db_file)
    assert set(uids) <= set(written) | set(pending)
    assert not set(written) & set(pending)
    # Each written message's event committed with it, once.
    assert inbound == len(written)

    # Started again, Porch writes the intake's leftovers, each once.
    proc, _ = _start(data_dir, free_port(), fresh=False)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            written, pending, inbound = _stored(db_file)
            if not pending:
                break
            time.sleep(0.1)
    finally:
        _kill(proc)
    assert sorted(written) == sorted(uids)
    assert not pending
    assert inbound == MESSAGES


def test_a_write_failing_among_concurrent_ones_takes_none_of_them_along(
    dunder_mifflin: Company,
) -> None:
    api = dunder_mifflin.api
    api.ok("POST", "/tags", 201, json={"name": "Urgent"})
    names = [f"Branch {n}" if n % 3 else "Urgent" for n in range(60)]

    async def create_all() -> list[int]:
        async with httpx.AsyncClient(
            base_url=api.base_url, headers=dict(api.http.headers), timeout=30
        ) as client:
            answers = await asyncio.gather(
                *(client.post("/tags", json={"name": name}) for name in names)
            )
        return [a.status_code for a in answers]

    codes = asyncio.run(create_all())
    # The duplicates fail inside their transactions (the name check runs there) ...
    assert [c for n, c in zip(names, codes, strict=True) if n == "Urgent"] == [409] * 20
    assert [c for n, c in zip(names, codes, strict=True) if n != "Urgent"] == [201] * 40
    # ... and every other tag is stored, whichever commit it shared with them.
    stored = [t["name"] for t in api.all_pages("/tags")]
    assert sorted(stored) == sorted({*names})
