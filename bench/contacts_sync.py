"""CRM contact sync: rows per second for a first sync and for a re-run that changes nothing.

    .venv/bin/python bench/contacts_sync.py [--rows 100000] [--concurrency 16]

Porch runs as ``porch serve`` does (SQLite, synchronous=FULL, a fresh data dir); the sync runs
in this process through ``porch.sync.contacts`` and ``porch.client.AsyncClient``, exactly as
``porch contacts sync`` does, with a state file. The export: ``--rows`` contacts with an email,
a name, a phone number on every third, one or two list names out of 20, and two custom fields
(a number and a string). Printed: rows/s for the first run (every row created) and for the
second run over the same file (every row unchanged: it must make no write, and reads only the
contacts updated since the first run), the requests each made, and the server's CPU per row.

Targets (the contacts issue): at least 500 rows/s created, at least 5,000 rows/s for the
no-change re-run.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import random
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO / "src") not in sys.path:
    sys.path.insert(0, str(REPO / "src"))
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from bench.api_read import BIN, cpu_seconds, free_port, http, machine, start  # noqa: E402
from porch.client import AsyncClient  # noqa: E402
from porch.sync.contact_state import Summary  # noqa: E402
from porch.sync.contacts import ContactSync  # noqa: E402
from porch.sync.rows import Mapping, read_rows  # noqa: E402

TARGET_CREATE = 500.0
TARGET_RERUN = 5_000.0
MAPPING = Mapping(
    handles={"email": "Email", "phone": "Phone"},
    name=("First name", "Last name"),
    lists="Segments",
    custom_fields={"Seats": "Seats", "Plan": "Plan"},
)


def export(path: Path, rows: int) -> None:
    rng = random.Random(7)
    first = ["Ada", "Ben", "Cleo", "Dev", "Eli", "Fay", "Gus", "Hana", "Ivo", "June"]
    last = ["Smith", "Ng", "Garcia", "Okafor", "Kim", "Rossi", "Novak", "Silva"]
    with path.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["Email", "First name", "Last name", "Phone", "Segments", "Seats", "Plan"])
        for n in range(rows):
            segments = {f"Segment {rng.randrange(20)}" for _ in range(rng.randint(1, 2))}
            w.writerow(
                [
                    f"customer{n}@example.com",
                    rng.choice(first),
                    rng.choice(last),
                    f"+1415{2_000_000 + n:07d}" if n % 3 == 0 else "",
                    ";".join(sorted(segments)),
                    rng.randint(1, 500),
                    rng.choice(["starter", "growth", "enterprise"]),
                ]
            )


async def one_run(
    url: str, token: str, source: Path, state: Path, concurrency: int
) -> tuple[Summary, float, dict[str, int]]:
    async with AsyncClient(url, token, connections=concurrency) as client:
        run = ContactSync(client, MAPPING, state_path=state, concurrency=concurrency)
        started = time.monotonic()
        summary = await run.run(read_rows(source), str(source))
        return summary, time.monotonic() - started, dict(client.sent)


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--rows", type=int, default=100_000)
    p.add_argument("--concurrency", type=int, default=16)
    args = p.parse_args(argv)
    if not 1 <= args.rows <= 1_000_000:
        p.error("--rows must be 1 to 1,000,000")
    print("machine: " + ", ".join(f"{k} {v}" for k, v in machine().items()), flush=True)
    with tempfile.TemporaryDirectory(prefix="porch-bench-contacts-") as tmp:
        work = Path(tmp)
        source = work / "contacts.csv"
        export(source, args.rows)
        port = free_port()
        cmd = [str(BIN / "porch"), "serve", "--data-dir", str(work / "data"), "--port", str(port)]
        cmd += ["--smtp-port", "0"]
        porch = start("Porch", cmd, {}, port, work / "porch.log")
        try:
            token = ""
            for _ in range(100):
                log = (work / "porch.log").read_text()
                if "admin API token:" in log:
                    token = log.split("admin API token:")[1].split()[0]
                    break
                time.sleep(0.1)
            for name, kind in (("Seats", "number"), ("Plan", "string")):
                status, _ = http(
                    "POST",
                    porch.url + "/porch/custom_fields",
                    token,
                    {"object_type": "contact", "name": name, "type": kind},
                )
                assert status == 201, status
            state = work / "state.json"
            results = []
            for label in ("first run", "re-run, nothing changed"):
                cpu = cpu_seconds(porch.proc.pid)
                summary, took, counts = asyncio.run(
                    one_run(porch.url, token, source, state, args.concurrency)
                )
                cpu = cpu_seconds(porch.proc.pid) - cpu
                rate = args.rows / took
                print(
                    f"{label}: {args.rows:,} rows in {took:.1f} s = {rate:,.0f} rows/s;"
                    f" created {summary.created:,}, updated {summary.updated:,},"
                    f" unchanged {summary.unchanged:,}, failed {summary.failed:,};"
                    f" requests {counts}; server CPU {cpu * 1e6 / args.rows:,.0f} µs/row",
                    flush=True,
                )
                results.append((label, rate, summary, counts, cpu))
        finally:
            porch.stop()
    cmd_line = " ".join(["bench/contacts_sync.py", *(argv if argv is not None else sys.argv[1:])])
    print(f"\n{cmd_line}: {args.rows:,} rows, concurrency {args.concurrency}\n")
    print("| run | rows/s | created | updated | unchanged | failed | requests | target |")
    print("|---|---|---|---|---|---|---|---|")
    for (label, rate, s, counts, _), target in zip(
        results, (TARGET_CREATE, TARGET_RERUN), strict=True
    ):
        verdict = "met" if rate >= target else "**missed**"
        reqs = ", ".join(f"{m} {n:,}" for m, n in sorted(counts.items()))
        print(
            f"| {label} | {rate:,.0f} | {s.created:,} | {s.updated:,} | {s.unchanged:,}"
            f" | {s.failed:,} | {reqs} | ≥ {target:,.0f} {verdict} |"
        )


if __name__ == "__main__":
    main()
