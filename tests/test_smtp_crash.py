"""No lost mail: 10,000 messages over SMTP while the server is killed and restarted.

``porch serve`` runs as its own process (SQLite, synchronous=FULL). Eight client threads mail
10,000 messages, each with its own Message-ID; a message whose 250 never came (the server died
mid-dialogue) is sent again, as an MTA would. Meanwhile the server is killed with SIGKILL three
times and started again on the same ports. At the end every message that got a 250 must be in
Porch, written from the intake after the restarts, and none twice (a message stored just before
a kill and sent again is recognised by its Message-ID).
"""

from __future__ import annotations

import contextlib
import os
import signal
import smtplib
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

from tests.conftest import free_port

PORCH = Path(sys.executable).parent / "porch"
MESSAGES = 10_000
SENDERS = 8
KILL_AT = (2_000, 5_000, 8_000)  # acknowledged messages
BOUND_SECONDS = 600


class Porch:
    """One ``porch serve`` process at a time, on fixed ports, restartable."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.http_port, self.smtp_port = free_port(), free_port()
        self.proc: subprocess.Popen[str] | None = None
        self.token = ""

    def start(self) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith("PORCH_")}
        cmd = [str(PORCH), "serve", "--data-dir", str(self.data_dir)]
        cmd += ["--port", str(self.http_port), "--smtp-port", str(self.smtp_port)]
        self.proc = subprocess.Popen(
            cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        assert self.proc.stdout is not None
        # A fresh data dir prints the demo company's token, after the listening addresses.
        wanted = "admin API token" if not self.token else "Inbound mail:"
        deadline = time.monotonic() + 60
        for line in self.proc.stdout:
            if "admin API token" in line:
                self.token = self.proc.stdout.readline().strip()
            if wanted in line or time.monotonic() > deadline:
                break
        # Keep reading its output, so that a full pipe never blocks it.
        self.reader = threading.Thread(target=self.proc.stdout.read, daemon=True)
        self.reader.start()
        for _ in range(600):
            try:
                if httpx.get(f"http://127.0.0.1:{self.http_port}/healthz", timeout=1).is_success:
                    with smtplib.SMTP("127.0.0.1", self.smtp_port, timeout=5) as smtp:
                        smtp.noop()
                    return
            except (httpx.TransportError, OSError):
                pass
            time.sleep(0.05)
        raise AssertionError("porch serve did not come up")

    def kill(self) -> None:
        assert self.proc is not None and self.proc.stdout is not None
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=30)
        self.reader.join(timeout=30)
        self.proc.stdout.close()


def _raw(n: int, address: str) -> bytes:
    return (
        f"From: Customer {n % 300} <customer{n % 300}@example.com>\r\nTo: {address}\r\n"
        f"Subject: Order {n}\r\nMessage-ID: <order-{n}@crash.test>\r\nMIME-Version: 1.0\r\n"
        f"Content-Type: text/plain; charset=utf-8\r\n\r\n"
        f"Order {n} has not arrived.\r\n" + "Details follow, line by line.\r\n" * 60
    ).encode()


def test_every_message_that_got_a_250_is_there_once(tmp_path: Path) -> None:
    if not PORCH.exists():
        pytest.skip(f"the porch console script is not installed next to {sys.executable}")
    porch = Porch(tmp_path / "data")
    porch.start()
    api = httpx.Client(
        base_url=f"http://127.0.0.1:{porch.http_port}",
        headers={"Authorization": f"Bearer {porch.token}"},
        timeout=30,
    )
    team = api.get("/teams").json()["_results"][0]["id"]
    inbox = api.post(f"/teams/{team}/inboxes", json={"name": "Orders"}).json()["id"]
    address = "orders@dundermifflin.test"
    made = api.post(f"/inboxes/{inbox}/channels", json={"type": "smtp", "send_as": address})
    assert made.status_code == 204
    api.close()

    lock = threading.Lock()
    todo = list(range(MESSAGES))
    acked: set[int] = set()
    refused: list[str] = []
    started = time.monotonic()

    def sender() -> None:
        smtp: smtplib.SMTP | None = None
        while time.monotonic() - started < BOUND_SECONDS:
            with lock:
                if not todo:
                    break
                n = todo.pop()
            while time.monotonic() - started < BOUND_SECONDS:
                try:
                    if smtp is None:
                        smtp = smtplib.SMTP("127.0.0.1", porch.smtp_port, timeout=10)
                    smtp.sendmail("orders-bot@example.com", [address], _raw(n, address))
                    with lock:
                        acked.add(n)
                    break
                except smtplib.SMTPResponseException as exc:
                    if exc.smtp_code < 400 or exc.smtp_code >= 500:
                        with lock:
                            refused.append(f"{n}: {exc.smtp_code} {exc.smtp_error!r}")
                        break
                    smtp = None
                    time.sleep(0.05)
                except (smtplib.SMTPException, OSError):
                    # The server went away mid-dialogue: whether it kept the message is unknown,
                    # so it is sent again once the server is back.
                    smtp = None
                    time.sleep(0.05)
        if smtp is not None:
            with contextlib.suppress(smtplib.SMTPException, OSError):
                smtp.quit()

    threads = [threading.Thread(target=sender) for _ in range(SENDERS)]
    for t in threads:
        t.start()
    kills = 0
    for mark in KILL_AT:
        while len(acked) < mark and not refused and time.monotonic() - started < BOUND_SECONDS:
            time.sleep(0.01)
        porch.kill()
        kills += 1
        time.sleep(0.5)
        porch.start()
    for t in threads:
        t.join(timeout=BOUND_SECONDS)
    assert refused == []
    assert kills == len(KILL_AT)
    assert len(acked) == MESSAGES, f"only {len(acked)} messages got a 250 in time"

    # Everything acknowledged is written from the intake, by the last server, exactly once.
    db_file = tmp_path / "data" / "porch.db"
    deadline = time.monotonic() + 300
    while True:
        conn = sqlite3.connect(db_file)
        try:
            pending = conn.execute("SELECT count(*) FROM intake").fetchone()[0]
            rows = conn.execute(
                "SELECT e.rfc_id, count(*) FROM email_messages e JOIN messages m"
                " ON m.id = e.message_id GROUP BY e.rfc_id"
            ).fetchall()
        finally:
            conn.close()
        if pending == 0 or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    porch.kill()
    assert pending == 0
    stored = {rfc_id: count for rfc_id, count in rows}
    assert {f"order-{n}@crash.test" for n in acked} <= set(stored)
    assert [rfc_id for rfc_id, count in stored.items() if count > 1] == []
    assert len(stored) == MESSAGES
