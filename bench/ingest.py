"""Ingestion: how many messages per second Porch accepts, durably, on a custom channel.

    .venv/bin/python bench/ingest.py [--backends sqlite] [--duration 10] [--connections 64]
        [--background 0.01]

For each database it seeds a company (``--background`` of bench/seed.py's full size, so that
threading looks up real tables) and serves it with Porch as ``porch serve`` runs it
(SQLite with synchronous=FULL; PostgreSQL with fsync and synchronous_commit on). wrk then
POSTs ``/channels/{cha_}/incoming_messages`` for ``--duration`` seconds from ``--connections``
connections; its Lua script makes every request distinct: a new body, one of 5,000 senders,
and a thread_ref on half of them (one of 20,000), so messages both start and join
conversations. Each 202's ``message_uid`` is written to a file as it arrives.

Porch answers 202 once a message is committed to its intake, and its intake worker writes the
message into its conversation after that (giving answering priority while requests are in
flight). After the run the server is killed with SIGKILL (no chance to flush anything), the
database is opened afresh and every acknowledged uid is looked up: each must be a message
already written or a row still in the intake (durable when acknowledged), and none both. Then
Porch is started again on the same database and the script waits (bounded by
``--drain-seconds``) until every acknowledged uid is a written message: the intake's leftovers
survive the kill, and the time they take gives the rate at which Porch writes messages with no
request to answer. Target: at least 1,000 accepted messages per second on SQLite.
"""

from __future__ import annotations

import argparse
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from bench.api_read import cpu_seconds, ensure_wrk, machine, parse_wrk  # noqa: E402
from bench.common import backends_of, seeded_database, start_porch  # noqa: E402

TARGET_PER_SECOND = 1_000.0

INGEST_LUA = """
-- Distinct incoming messages; every 202's message_uid goes to a file (one per thread).
local counter = 0
local threads = {}
local out = nil
-- id: set per thread by setup() (a global of the thread's Lua state).

function setup(thread)
  thread:set("id", #threads + 1)
  table.insert(threads, thread)
end

function init(args)
  out = io.open(string.format("%s/uids-%d.txt", "DIR", id), "w")
  out:setvbuf("line")
  math.randomseed(id * 7919)
  -- Headers given to wrk.format replace wrk's own (-H): add to those instead.
  wrk.headers["Content-Type"] = "application/json"
end

local words = {"order", "refund", "delivery", "account", "password", "invoice", "late",
  "broken", "thanks", "question", "upgrade", "cancel", "billing", "shipping", "login"}

function request()
  counter = counter + 1
  local n = id * 100000000 + counter
  local sender = math.random(5000)
  local body = string.format("Message %d: %s %s %s, please help with my %s.", n,
    words[math.random(#words)], words[math.random(#words)], words[math.random(#words)],
    words[math.random(#words)])
  local meta = ""
  if counter % 2 == 0 then
    meta = string.format(', "metadata": {"thread_ref": "load-%d"}', math.random(20000))
  end
  local json = string.format(
    '{"sender": {"handle": "sender-%d@load.example", "name": "Sender %d"},'
    .. ' "subject": "Load %d", "body": "%s"%s}', sender, sender, n, body, meta)
  return wrk.format("POST", "PATH", nil, json)
end

local failures = 0

function response(status, headers, body)
  if status == 202 then
    local uid = string.match(body, '"message_uid":"([0-9a-f]+)"')
    if uid then out:write(uid, "\\n") end
  elseif failures < 5 then
    -- The first few failures of each thread, for the report.
    failures = failures + 1
    out:write("FAILED ", status, " ", string.sub(body, 1, 300), "\\n")
  end
end
"""


@dataclass
class Outcome:
    backend: str
    seconds: float
    requests: int
    accepted: int
    failed: int
    per_second: float
    p50_ms: float
    p99_ms: float
    written: int
    pending: int
    server_cpu_us: float
    db_cpu_us: float
    drained_seconds: float | None = None

    @property
    def found(self) -> int:
        return self.written + self.pending


def count_found(url: str, uids: list[str], table: str = "messages") -> int:
    """How many of ``uids`` ``table`` (messages or intake) holds, read from a fresh
    connection."""
    assert table in ("messages", "intake")
    found = 0
    if url.startswith("sqlite"):
        import sqlite3

        conn = sqlite3.connect(url.split(":///", 1)[1])
        try:
            conn.execute("CREATE TEMP TABLE acked (uid TEXT PRIMARY KEY)")
            conn.executemany("INSERT OR IGNORE INTO acked VALUES (?)", ((u,) for u in uids))
            (found,) = conn.execute(
                f"SELECT count(*) FROM {table} JOIN acked USING (uid)"  # noqa: S608
            ).fetchone()
        finally:
            conn.close()
        return int(found)
    import psycopg

    with psycopg.connect(url) as pg:
        row = pg.execute(
            f"SELECT count(*) FROM {table} WHERE uid = ANY(%s)",  # noqa: S608
            (list(set(uids)),),
        ).fetchone()
        assert row is not None
        return int(row[0])


def drain(url: str, work: Path, uids: list[str], limit: float) -> float | None:
    """Start Porch again and wait until every one of ``uids`` is a written message; the seconds
    that took (None if not within ``limit``)."""
    porch = start_porch(url, work)
    try:
        started = time.monotonic()
        while time.monotonic() - started < limit:
            if count_found(url, uids) == len(uids):
                return time.monotonic() - started
            time.sleep(0.25)
        return None
    finally:
        porch.stop()


def run_backend(backend: str, args: argparse.Namespace, wrk_bin: str, tmp: Path) -> Outcome:
    work = tmp / backend
    work.mkdir()
    with seeded_database(backend, args, work) as (db, done):
        porch = start_porch(db.url, work)
        try:
            channel = done.channel_ids[0]
            path = f"/channels/{channel}/incoming_messages"
            uids_dir = work / "uids"
            uids_dir.mkdir()
            script = work / "ingest.lua"
            script.write_text(INGEST_LUA.replace("DIR", str(uids_dir)).replace("PATH", path))
            cmd = [wrk_bin, f"-t{args.threads}", f"-c{args.connections}", f"-d{args.duration}s"]
            cmd += ["--timeout", "10s", "--latency", "-s", str(script)]
            cmd += ["-H", f"Authorization: Bearer {done.token}", porch.url + path]
            spying = None
            if args.profile is not None:
                spy = shutil.which("py-spy", path=str(Path(sys.executable).parent))
                if spy is None:
                    sys.exit("--profile needs py-spy: .venv/bin/pip install py-spy")
                out_file = args.profile.with_name(f"{args.profile.stem}-{backend}.txt")
                spying = subprocess.Popen(
                    [spy, "record", "--pid", str(porch.proc.pid), "--duration"]
                    + [str(args.duration), "--rate", "250", "--format", "raw", "--nonblocking"]
                    + ["--output", str(out_file)],
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
                time.sleep(1)  # py-spy attaches
            before = cpu_seconds(porch.proc.pid), cpu_seconds(db.db_pid) if db.db_pid else 0.0
            started = time.monotonic()
            out = subprocess.run(
                cmd, capture_output=True, text=True, timeout=args.duration + 60, check=True
            )
            elapsed = time.monotonic() - started
            if spying is not None:
                spying.wait(timeout=60)
            cpu = cpu_seconds(porch.proc.pid) - before[0]
            db_cpu = (cpu_seconds(db.db_pid) if db.db_pid else 0.0) - before[1]
            # Killed, not stopped: what is not on disk by now was not durable when acknowledged.
            porch.proc.send_signal(signal.SIGKILL)
            porch.proc.wait(timeout=30)
            rps, count, p50, p99, errors = parse_wrk(out.stdout)
            lines = [
                line.strip()
                for f in sorted(uids_dir.glob("uids-*.txt"))
                for line in f.read_text().splitlines()
                if line.strip()
            ]
            uids = [line for line in lines if not line.startswith("FAILED ")]
            for line in [line for line in lines if line.startswith("FAILED ")][:4]:
                print(f"[{backend}] {line}", flush=True)
            written = count_found(db.url, uids)
            pending = count_found(db.url, uids, "intake")
            accepted = len(uids)
            seconds = float(args.duration)
            outcome = Outcome(
                backend,
                round(elapsed, 1),
                count,
                accepted,
                errors,
                accepted / seconds,
                p50,
                p99,
                written,
                pending,
                cpu * 1e6 / max(count, 1),
                db_cpu * 1e6 / max(count, 1),
            )
            print(
                f"[{backend}] {accepted:,} accepted in {seconds:.0f} s ="
                f" {outcome.per_second:,.0f} msg/s (wrk {rps:,.0f} req/s, {errors} failed),"
                f" p50 {p50:.1f} ms p99 {p99:.1f} ms; after SIGKILL: {written:,} written and"
                f" {pending:,} in the intake of {accepted:,}",
                flush=True,
            )
            if errors:
                print(out.stdout[-1500:])
        finally:
            porch.stop()
        if written + pending == accepted:
            outcome.drained_seconds = drain(db.url, work, uids, args.drain_seconds)
            took = outcome.drained_seconds
            print(
                f"[{backend}] restarted: every acknowledged message written "
                + (f"after {took:.1f} s ({pending / took:,.0f} msg/s)" if took else "NOT in time"),
                flush=True,
            )
        return outcome


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--backends", default="sqlite")
    p.add_argument("--duration", type=int, default=10, help="seconds of load (bounded)")
    p.add_argument("--connections", type=int, default=64)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--background", type=float, default=0.01, help="seeded scale beforehand")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument(
        "--drain-seconds",
        type=float,
        default=300.0,
        help="bound on the wait for the intake's leftovers after the restart",
    )
    p.add_argument(
        "--profile", type=Path, default=None, metavar="FILE", help="py-spy Porch during the load"
    )
    args = p.parse_args(argv)
    args.scale, args.sqlite_db = args.background, None
    if not 1 <= args.duration <= 600:
        p.error("--duration must be 1 to 600 seconds")
    backends = backends_of(p, args)
    wrk_bin = ensure_wrk()
    print("machine: " + ", ".join(f"{k} {v}" for k, v in machine().items()), flush=True)
    # wrk keeps a file per thread open; plenty of descriptors for the connections too.
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, max(soft, 4096)), hard))
    outcomes = []
    with tempfile.TemporaryDirectory(prefix="porch-bench-ingest-") as tmp:
        for backend in backends:
            outcomes.append(run_backend(backend, args, wrk_bin, Path(tmp)))
    cmd = " ".join(["bench/ingest.py", *(argv if argv is not None else sys.argv[1:])])
    print(f"\n{cmd}: wrk -t{args.threads} -c{args.connections} -d{args.duration}s\n")
    print(
        "| backend | accepted msg/s | accepted | failed | p50 / p99 ms | durable after SIGKILL"
        " (written + in the intake) | written after the restart | server CPU µs/msg"
        " | DB CPU µs/msg | target ≥ 1,000 msg/s (SQLite) |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    for o in outcomes:
        durable = "all" if o.found == o.accepted else f"**{o.found:,} of {o.accepted:,}**"
        durable += f" ({o.written:,} + {o.pending:,})"
        took = o.drained_seconds
        drained = (
            f"{o.pending:,} in {took:.1f} s ({o.pending / took:,.0f} msg/s)"
            if took
            else "**not within the bound**"
        )
        verdict = "met" if o.per_second >= TARGET_PER_SECOND else "**missed**"
        if o.backend != "sqlite":
            verdict = "(no target) " + verdict
        print(
            f"| {o.backend} | {o.per_second:,.0f} | {o.accepted:,} | {o.failed} |"
            f" {o.p50_ms:.1f} / {o.p99_ms:.1f} | {durable} | {drained} | {o.server_cpu_us:,.0f}"
            f" | {o.db_cpu_us:,.0f} | {verdict} |"
        )


if __name__ == "__main__":
    main()
