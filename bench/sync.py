"""Warehouse sync: ``porch sync`` into DuckDB against Airbyte's ``source-front``, then an
incremental run after 1,000 changes.

    .venv/bin/python bench/sync.py [--conversations 100000] [--messages N] [--concurrency 64]
        [--sqlite-db FILE] [--changes 1000] [--no-airbyte] [--airbyte-timeout 7200]

A local Porch (``porch serve`` on a fresh data dir, SQLite) holds the company bench/seed.py
makes (``--conversations``, ten messages each unless ``--messages``; written straight into the
database, no search index: the sync never searches), or reuses a SQLite file it seeded
(``--sqlite-db``, its ``--json`` facts beside it). Then, against that same server:

1. a full ``porch sync`` into a new DuckDB file, in this process (as ``porch sync`` runs it);
2. Airbyte's ``source-front`` manifest, read at run time from
   ../shared/clients/airbyte-source-front/manifest.yaml, run by airbyte-cdk's declarative
   source in its own virtualenv (/tmp/airbyte-venv, made here when missing) with ``url_base``
   rewritten to the local server and ``page_limit`` 100, over the streams the sync reads
   (bench/airbyte_read.py), counting records;
3. ``--changes`` changes through the API (tags, archive, reopen, comments, contact edits),
   then an incremental ``porch sync``.

Printed: records read from the API per second for both (the same basis: one API object, one
record) and their ratio against the 5× target, the sync's warehouse rows per second, and the
incremental run's time against the < 10 s target. A bench prints figures; it asserts nothing
about speed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
if str(REPO / "src") not in sys.path:
    sys.path.insert(0, str(REPO / "src"))
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from bench.api_read import cpu_seconds, machine  # noqa: E402
from bench.common import start_porch  # noqa: E402
from bench.seed import Seeded, seed  # noqa: E402
from porch.client import AsyncClient  # noqa: E402
from porch.sync.warehouse import Summary, SyncConfig, run_sync  # noqa: E402

MANIFEST = REPO.parent / "shared" / "clients" / "airbyte-source-front" / "manifest.yaml"
AIRBYTE_VENV = Path("/tmp/airbyte-venv")
# The manifest's streams reading what the sync reads (the sync also reads comments, which the
# manifest has no stream for; the manifest's per-conversation events are left out).
STREAMS = (
    "teammates,teams,inboxes,inboxes_channels,channels,tags,accounts,contacts,conversations,"
    "conversations_messages,conversations_inboxes,conversations_followers,events"
)
TARGET_RATIO = 5.0
TARGET_INCREMENTAL = 10.0


def airbyte_python() -> Path:
    """The airbyte-cdk virtualenv's python, the virtualenv made first if missing."""
    python = AIRBYTE_VENV / "bin" / "python"
    probe = [str(python), "-c", "import airbyte_cdk, yaml"]
    if python.exists() and subprocess.run(probe, capture_output=True, check=False).returncode == 0:
        return python
    print(f"making {AIRBYTE_VENV} (python3 -m venv; pip install airbyte-cdk)", flush=True)
    subprocess.run(["python3", "-m", "venv", str(AIRBYTE_VENV)], check=True)
    pip = [str(AIRBYTE_VENV / "bin" / "pip"), "install", "-q", "airbyte-cdk"]
    subprocess.run(pip, check=True, timeout=1800)
    return python


def seeded(args: argparse.Namespace, work: Path) -> Seeded:
    if args.sqlite_db is not None:
        facts = args.sqlite_db.with_suffix(args.sqlite_db.suffix + ".json")
        return Seeded(**json.loads(facts.read_text()))
    messages = args.messages or args.conversations * 10
    print(f"seeding {args.conversations:,} conversations, {messages:,} messages", flush=True)
    return seed(
        f"sqlite:///{work / 'porch.db'}",
        conversations=args.conversations,
        messages=messages,
        seed=1,
        search=False,
        log=lambda line: print(f"  {line}", flush=True),
    )


def porch_sync(url: str, token: str, db: Path, concurrency: int) -> tuple[Summary, float]:
    config = SyncConfig(
        base_url=url, token=token, destination=f"duckdb:///{db}", concurrency=concurrency
    )
    started = time.monotonic()
    summary = run_sync(config)
    return summary, time.monotonic() - started


def airbyte(url: str, token: str, timeout: float) -> dict[str, Any]:
    """The read's counts; stopped at ``timeout``, its last progress line (``partial``): the
    rate so far, at the full size where the whole read would take most of an hour."""
    python = airbyte_python()
    cmd = [str(python), str(REPO / "bench" / "airbyte_read.py"), "--manifest", str(MANIFEST)]
    cmd += ["--url", url, "--token", token, "--streams", STREAMS, "--page-limit", "100"]
    started = time.monotonic()
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired as stopped:
        out = stopped.stdout or b""
        text = out.decode() if isinstance(out, bytes) else out
        lines = [line for line in text.splitlines() if line.startswith('{"progress": true')]
        if not lines:
            raise SystemExit(f"the Airbyte read gave no progress in {timeout:.0f} s") from None
        partial: dict[str, Any] = json.loads(lines[-1])
        partial.update(partial=True, errors=[], wall=time.monotonic() - started)
        return partial
    took = time.monotonic() - started
    if done.returncode != 0:
        raise SystemExit(f"the Airbyte read failed ({done.returncode}):\n{done.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    result["wall"] = took
    result["partial"] = False
    return result


async def changes(url: str, token: str, facts: Seeded, count: int) -> dict[str, int]:
    """``count`` changes through the API, a fifth of each kind, every one a real change on a
    distinct conversation or contact even on a database an earlier run already changed: a tag
    added (one the conversation lacks), an open conversation archived, an archived one
    reopened, a comment, a contact's description edited."""
    rng = random.Random(time.time_ns())
    kinds = ("tag", "archive", "reopen", "comment", "contact")
    made = dict.fromkeys(kinds, 0)
    share = -(-count // len(kinds))
    async with AsyncClient(url, token, connections=8) as client:

        async def listed(path: str, params: dict[str, Any], want: int) -> list[dict[str, Any]]:
            found: list[dict[str, Any]] = []
            async for item in client.paginate(path, {**params, "limit": 100}):
                found.append(item)
                if len(found) >= want:
                    break
            return found

        opened = await listed(
            "/conversations", {"q": {"statuses": ["unassigned", "assigned"]}}, share
        )
        archived = await listed("/conversations", {"q": {"statuses": ["archived"]}}, share)
        contacts = await listed("/contacts", {}, share)
        taken = {str(c["id"]) for c in opened + archived}
        others = [cid for cid in facts.conversation_ids if cid not in taken]
        rng.shuffle(others)
        targets: dict[str, list[Any]] = {
            "archive": opened,
            "reopen": archived,
            "tag": others[:share],
            "comment": others[share : 2 * share],
            "contact": contacts,
        }
        sem = asyncio.Semaphore(8)

        async def one(n: int) -> None:
            kind = kinds[n % len(kinds)]
            pool = targets[kind]
            if n // len(kinds) >= len(pool):
                return
            target = pool[n // len(kinds)]
            async with sem:
                if kind == "tag":
                    have = await client.get(f"/conversations/{target}")
                    held = {t["id"] for t in have.get("tags") or []}
                    free = [t for t in facts.tag_ids if t not in held]
                    if not free:
                        return
                    tagged = {"tag_ids": [rng.choice(free)]}
                    await client.post(f"/conversations/{target}/tags", json=tagged)
                elif kind in ("archive", "reopen"):
                    status = "archived" if kind == "archive" else "open"
                    await client.patch(f"/conversations/{target['id']}", json={"status": status})
                elif kind == "comment":
                    body = {"body": f"bench change {n}"}
                    await client.post(f"/conversations/{target}/comments", json=body)
                else:
                    body = {"description": f"edited by the bench ({time.time_ns()}, {n})"}
                    await client.patch(f"/contacts/{target['id']}", json=body)
            made[kind] += 1

        for start in range(0, count, 100):
            await asyncio.gather(*(one(n) for n in range(start, min(count, start + 100))))
    return made


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--conversations", type=int, default=100_000)
    p.add_argument("--messages", type=int, default=None, help="default ten per conversation")
    p.add_argument(
        "--concurrency",
        type=int,
        default=SyncConfig.concurrency,
        help=f"the sync's requests in flight (its default, {SyncConfig.concurrency})",
    )
    p.add_argument("--sqlite-db", type=Path, default=None, help="reuse a bench/seed.py database")
    p.add_argument("--changes", type=int, default=1_000)
    p.add_argument("--no-airbyte", action="store_true", help="skip the Airbyte read")
    p.add_argument("--airbyte-timeout", type=float, default=7200.0, help="seconds")
    args = p.parse_args(argv)
    if not 1 <= args.conversations <= 1_000_000:
        p.error("--conversations must be 1 to 1,000,000")
    print("machine: " + ", ".join(f"{k} {v}" for k, v in machine().items()), flush=True)
    with tempfile.TemporaryDirectory(prefix="porch-bench-sync-") as tmp:
        work = Path(tmp)
        facts = seeded(args, work)
        print(
            f"seeded: {facts.conversations:,} conversations, {facts.messages:,} messages,"
            f" {facts.contacts:,} contacts ({facts.seconds:.0f} s)",
            flush=True,
        )
        porch = start_porch(facts.database_url, work)
        try:
            cpu = cpu_seconds(porch.proc.pid)
            full, took = porch_sync(porch.url, facts.token, work / "w.duckdb", args.concurrency)
            cpu = cpu_seconds(porch.proc.pid) - cpu
            ours = full.records / took
            print(
                f"porch sync (full): {full.records:,} records, {full.rows:,} warehouse rows,"
                f" {full.requests:,} requests in {took:.1f} s = {ours:,.0f} records/s,"
                f" {full.rows / took:,.0f} rows/s; server CPU {cpu:.0f} s; this process's peak"
                f" RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:,.0f} MB",
                flush=True,
            )
            theirs = None
            if not args.no_airbyte:
                ab = airbyte(porch.url, facts.token, args.airbyte_timeout)
                total = sum(ab["records"].values())
                theirs = total / ab["seconds"]
                stopped = " (stopped at --airbyte-timeout: the rate so far)" * ab["partial"]
                print(
                    f"airbyte source-front{stopped}: {total:,} records in {ab['seconds']:.1f} s"
                    f" = {theirs:,.0f} records/s; by stream {ab['records']}",
                    flush=True,
                )
                for error in ab["errors"]:
                    print(f"  airbyte error: {error}", flush=True)
            made = asyncio.run(changes(porch.url, facts.token, facts, args.changes))
            print(f"changes through the API: {made}", flush=True)
            inc, inc_took = porch_sync(porch.url, facts.token, work / "w.duckdb", args.concurrency)
            print(
                f"porch sync (incremental): {inc.rows:,} rows, {inc.conversations:,}"
                f" conversations refetched, {inc.events:,} events, {inc.requests:,} requests"
                f" in {inc_took:.1f} s",
                flush=True,
            )
        finally:
            porch.stop()
    line = " ".join(["bench/sync.py", *(argv if argv is not None else sys.argv[1:])])
    print(f"\n{line}: {facts.conversations:,} conversations, {facts.messages:,} messages\n")
    print("| run | records | warehouse rows | seconds | records/s | target |")
    print("|---|---|---|---|---|---|")
    print(f"| porch sync, full | {full.records:,} | {full.rows:,} | {took:.1f} | {ours:,.0f} | |")
    if theirs is not None:
        ratio = ours / theirs
        verdict = "met" if ratio >= TARGET_RATIO else "**missed**"
        name = "airbyte source-front" + (", stopped at the timeout" if ab["partial"] else "")
        print(
            f"| {name} | {total:,} | – | {ab['seconds']:.1f} | {theirs:,.0f}"
            f" | ratio {ratio:.1f}× (≥ {TARGET_RATIO:g}× {verdict}) |"
        )
        # The other basis: rows each lands (Porch's tables hold recipients, handles… as rows;
        # an Airbyte record keeps them nested).
        rows_ratio = full.rows / took / theirs
        print(
            f"\nrows landed per second: porch sync {full.rows / took:,.0f} warehouse rows/s,"
            f" airbyte {theirs:,.0f} records/s: {rows_ratio:.1f}×"
        )
    verdict = "met" if inc_took < TARGET_INCREMENTAL else "**missed**"
    print(
        f"| porch sync, incremental after {args.changes:,} changes | {inc.records:,}"
        f" | {inc.rows:,} | {inc_took:.1f} | – | < {TARGET_INCREMENTAL:g} s {verdict} |"
    )
    sys.stdout.flush()


if __name__ == "__main__":
    main()
