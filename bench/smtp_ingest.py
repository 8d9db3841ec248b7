"""Inbound mail: messages per second through Porch to a stored, threaded conversation, against
a bare aiosmtpd server measured in the same run.

    .venv/bin/python bench/smtp_ingest.py [--messages 5000] [--connections 8] [--rounds 3]

Porch runs as ``porch serve`` does (SQLite with synchronous=FULL, SMTP on its own port, every
worker in the process), with one company and one email channel. ``bench/bare_smtp.py`` parses
each message with the stdlib and inserts it into SQLite (synchronous=NORMAL, no fsync per
message) before its 250: no recipient check, no threading, no attachments.

The mail: ``--messages`` messages of about 2 KB (a 40-line text body), from 300 senders; every
second message is a reply to one sent at least 200 messages earlier (In-Reply-To and References),
so that Porch threads both ways. The client (smtplib) opens ``--connections`` connections, says
EHLO, then sends from all of them at once, each taking the next message. Porch is timed until
every message is written into a conversation (the messages table holds them all, counted from a
fresh connection every 50 ms), and also until the last 250 ("accepted"); the bare server until
the last 250 (it stores before answering). Rounds alternate Porch and bare, on fresh databases;
figures are medians. Bounded: each round stops after ``--max-seconds``.

Target (the email issue): at least 500 messages/s through to a threaded conversation on SQLite,
and at least 0.5 of the bare server's rate.
"""

from __future__ import annotations

import argparse
import smtplib
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from bench.api_read import BIN, cpu_seconds, free_port, http, machine, start  # noqa: E402

ADDRESS = "support@dundermifflin.test"
TARGET_RATE = 500.0
TARGET_RATIO = 0.5


def messages(count: int) -> list[bytes]:
    """The run's mail, each about 2 KB."""
    body = "".join(
        f"Line {i} of the message, about an order that did not arrive.\r\n" for i in range(30)
    )
    out = []
    for n in range(count):
        sender = n % 300
        headers = [
            f"From: Customer {sender} <customer{sender}@example.com>",
            f"To: Support <{ADDRESS}>",
            f"Message-ID: <bench-{n}@example.com>",
            "Date: Mon, 23 Nov 2026 10:00:00 +0000",
            "MIME-Version: 1.0",
            "Content-Type: text/plain; charset=utf-8",
        ]
        if n % 2 and n >= 200:
            parent = n - 200 - (n % 7)
            headers.append(f"Subject: Re: Order {parent}")
            headers.append(f"In-Reply-To: <bench-{parent}@example.com>")
            headers.append(f"References: <bench-{parent}@example.com>")
        else:
            headers.append(f"Subject: Order {n}")
        out.append(("\r\n".join(headers) + "\r\n\r\n" + body).encode())
    return out


@dataclass
class Result:
    name: str
    accepted_s: float
    written_s: float | None
    cpu_s: float
    count: int


def send_all(port: int, mail: list[bytes], connections: int, max_seconds: float) -> float:
    """Send every message over ``connections`` connections at once; seconds to the last 250."""
    clients = [smtplib.SMTP("127.0.0.1", port, timeout=60) for _ in range(connections)]
    for c in clients:
        c.ehlo()
    todo = list(range(len(mail)))
    todo.reverse()
    lock = threading.Lock()
    failures: list[str] = []
    go = threading.Barrier(connections + 1)
    deadline = [0.0]

    def worker(client: smtplib.SMTP) -> None:
        go.wait()
        while time.monotonic() < deadline[0]:
            with lock:
                if not todo:
                    break
                n = todo.pop()
            try:
                client.sendmail("bench@example.com", [ADDRESS], mail[n])
            except smtplib.SMTPException as exc:
                with lock:
                    failures.append(f"{n}: {exc}")
                break
        client.quit()

    threads = [threading.Thread(target=worker, args=(c,)) for c in clients]
    for t in threads:
        t.start()
    started = time.monotonic()
    deadline[0] = started + max_seconds
    go.wait()
    for t in threads:
        t.join()
    took = time.monotonic() - started
    if failures or todo:
        raise SystemExit(f"{len(failures)} refused, {len(todo)} unsent: {failures[:3]}")
    return took


def count_rows(db_file: Path, table: str) -> int:
    conn = sqlite3.connect(db_file)
    try:
        return int(conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0])  # noqa: S608
    finally:
        conn.close()


def run_porch(work: Path, mail: list[bytes], args: argparse.Namespace) -> Result:
    http_port, smtp_port = free_port(), free_port()
    cmd = [str(BIN / "porch"), "serve", "--data-dir", str(work), "--port", str(http_port)]
    cmd += ["--smtp-port", str(smtp_port)]
    porch = start("Porch", cmd, {}, http_port, work / "porch.log")
    try:
        token = ""
        for _ in range(100):
            log = (work / "porch.log").read_text()
            if "admin API token:" in log:
                token = log.split("admin API token:")[1].split()[0]
                break
            time.sleep(0.1)
        status, teams = http("GET", porch.url + "/teams", token)
        team = teams["_results"][0]["id"]
        status, inbox = http("POST", f"{porch.url}/teams/{team}/inboxes", token, {"name": "Mail"})
        status, _ = http(
            "POST",
            f"{porch.url}/inboxes/{inbox['id']}/channels",
            token,
            {"type": "smtp", "send_as": ADDRESS},
        )
        assert status == 204, status
        db_file = work / "porch.db"
        before = count_rows(db_file, "messages")
        cpu = cpu_seconds(porch.proc.pid)
        started = time.monotonic()
        accepted = send_all(smtp_port, mail, args.connections, args.max_seconds)
        written = None
        while time.monotonic() - started < args.max_seconds:
            if count_rows(db_file, "messages") - before >= len(mail):
                written = time.monotonic() - started
                break
            time.sleep(0.05)
        cpu = cpu_seconds(porch.proc.pid) - cpu
        conversations = count_rows(db_file, "conversations")
        print(f"  Porch: {conversations:,} conversations for {len(mail):,} messages", flush=True)
        return Result("Porch", accepted, written, cpu, len(mail))
    finally:
        porch.stop()


def run_bare(work: Path, mail: list[bytes], args: argparse.Namespace) -> Result:
    port = free_port()
    db_file = work / "bare.db"
    log = (work / "bare.log").open("wb")
    proc = subprocess.Popen(
        [str(BIN / "python"), str(REPO / "bench" / "bare_smtp.py"), str(port), str(db_file)],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        for _ in range(100):
            try:
                with smtplib.SMTP("127.0.0.1", port, timeout=2) as probe:
                    probe.noop()
                break
            except OSError:
                time.sleep(0.1)
        cpu = cpu_seconds(proc.pid)
        took = send_all(port, mail, args.connections, args.max_seconds)
        cpu = cpu_seconds(proc.pid) - cpu
        assert count_rows(db_file, "mail") == len(mail)
        return Result("bare", took, took, cpu, len(mail))
    finally:
        proc.terminate()
        proc.wait(timeout=15)
        log.close()


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--messages", type=int, default=5000)
    p.add_argument("--connections", type=int, default=8)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--max-seconds", type=float, default=300.0)
    args = p.parse_args(argv)
    if not 1 <= args.messages <= 100_000:
        p.error("--messages must be 1 to 100,000")
    print("machine: " + ", ".join(f"{k} {v}" for k, v in machine().items()), flush=True)
    mail = messages(args.messages)
    size = statistics.mean(len(m) for m in mail)
    porch_runs: list[Result] = []
    bare_runs: list[Result] = []
    with tempfile.TemporaryDirectory(prefix="porch-bench-smtp-") as tmp:
        for r in range(args.rounds):
            for name, runner, runs in (
                ("porch", run_porch, porch_runs),
                ("bare", run_bare, bare_runs),
            ):
                work = Path(tmp) / f"{name}-{r}"
                work.mkdir()
                res = runner(work, mail, args)
                runs.append(res)
                written = f"{res.count / res.written_s:,.0f}" if res.written_s else "not in time"
                print(
                    f"round {r + 1} {res.name}: accepted {res.count / res.accepted_s:,.0f} msg/s,"
                    f" written {written} msg/s, {res.cpu_s * 1e6 / res.count:,.0f} µs CPU/msg",
                    flush=True,
                )

    def median_rate(runs: list[Result], attr: str) -> float:
        rates = [r.count / getattr(r, attr) for r in runs if getattr(r, attr)]
        return statistics.median(rates) if rates else 0.0

    porch_written = median_rate(porch_runs, "written_s")
    porch_accepted = median_rate(porch_runs, "accepted_s")
    bare = median_rate(bare_runs, "accepted_s")
    ratio = porch_written / bare if bare else 0.0
    cmd = " ".join(["bench/smtp_ingest.py", *(argv if argv is not None else sys.argv[1:])])
    print(
        f"\n{cmd}: {args.messages:,} messages of {size:,.0f} bytes, {args.connections} connections"
    )
    print("\n| server | accepted msg/s | written, threaded msg/s | CPU µs/msg | target |")
    print("|---|---|---|---|---|")
    verdict = "met" if porch_written >= TARGET_RATE else "**missed**"
    cpu_porch = statistics.median(r.cpu_s * 1e6 / r.count for r in porch_runs)
    cpu_bare = statistics.median(r.cpu_s * 1e6 / r.count for r in bare_runs)
    print(
        f"| Porch | {porch_accepted:,.0f} | {porch_written:,.0f} | {cpu_porch:,.0f} |"
        f" ≥ 500 msg/s {verdict} |"
    )
    print(
        "| bare aiosmtpd + stdlib + SQLite |"
        + f" {bare:,.0f} | (stored) {bare:,.0f} | {cpu_bare:,.0f} | |"
    )
    verdict = "met" if ratio >= TARGET_RATIO else "**missed**"
    print(f"\nratio (Porch written / bare): **{ratio:.2f}** (target ≥ {TARGET_RATIO}: {verdict})")


if __name__ == "__main__":
    main()
