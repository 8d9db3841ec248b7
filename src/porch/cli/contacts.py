"""``porch contacts sync``: bring a CRM export's contacts into Porch (or Front).

    porch contacts sync contacts.csv --base-url https://porch.example.com --token … \\
        [--mapping mapping.json] [--state FILE | --no-state] [--dry-run] [--concurrency 8]

It talks only to the API (``porch.sync.contacts``), so ``--base-url https://api2.frontapp.com``
syncs into Front itself. The token may also come from ``$PORCH_TOKEN``. Exit status: 0 when every
row was applied, 3 when some rows failed (each is reported, and in ``--failures FILE`` as CSV),
130 when interrupted (run it again with the same state file to go on).
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import os
import sys
import time
from pathlib import Path
from typing import TextIO

from porch.client import AsyncClient
from porch.sync.contact_state import Summary
from porch.sync.contacts import ContactSync
from porch.sync.rows import Mapping, columns_of, read_rows

EX_ROWS_FAILED = 3
EX_INTERRUPTED = 130


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("contacts", help="contacts from elsewhere")
    csub = p.add_subparsers(dest="contacts_cmd", required=True)
    s = csub.add_parser("sync", help="create or update contacts from a CSV or JSON-lines export")
    s.add_argument("source", type=Path, help="a CSV file (header row) or JSON lines (.jsonl)")
    s.add_argument("--base-url", required=True, help="the API's address (Porch's, or Front's)")
    s.add_argument("--token", default=os.environ.get("PORCH_TOKEN"), help="default $PORCH_TOKEN")
    s.add_argument("--mapping", type=Path, default=None, help="which columns become what (JSON)")
    s.add_argument("--state", type=Path, default=None, help="default SOURCE.sync-state.json")
    s.add_argument("--no-state", action="store_true", help="keep no state file")
    s.add_argument("--dry-run", action="store_true", help="show what would change; write nothing")
    s.add_argument("--concurrency", type=int, default=8, help="requests in flight (default 8)")
    s.add_argument("--failures", type=Path, default=None, help="also write failed rows here (CSV)")
    s.set_defaults(func=sync)


class Progress:
    """A one-line progress bar on a terminal (nothing when not on one)."""

    def __init__(self, total: int, out: TextIO, client: AsyncClient) -> None:
        self.total = max(total, 1)
        self.out = out
        self.client = client
        self.started = time.monotonic()
        self.on = out.isatty()

    def __call__(self, s: Summary) -> None:
        if not self.on:
            return
        done = s.done
        width = 30
        filled = int(width * min(done, self.total) / self.total)
        rate = done / max(time.monotonic() - self.started, 1e-6)
        limit = getattr(self.client, "rate_limit", None)
        budget = f" | rate limit {limit.remaining}/{limit.limit}" if limit and limit.limit else ""
        self.out.write(
            f"\r[{'#' * filled}{'.' * (width - filled)}] {done:,}/{self.total:,} {rate:,.0f}/s"
            f" | +{s.created:,} ~{s.updated:,} ={s.unchanged:,} !{s.failed:,}{budget}   "
        )
        self.out.flush()

    def end(self) -> None:
        if self.on:
            self.out.write("\n")


def sync(args: argparse.Namespace) -> None:
    if not args.token:
        print("porch contacts sync: give --token (or set PORCH_TOKEN)", file=sys.stderr)
        raise SystemExit(2)
    if not args.source.is_file():
        print(f"porch contacts sync: no file {args.source}", file=sys.stderr)
        raise SystemExit(2)
    try:
        mapping = (
            Mapping.load(args.mapping) if args.mapping else Mapping.guess(columns_of(args.source))
        )
    except (ValueError, KeyError, OSError) as exc:
        print(f"porch contacts sync: bad mapping: {exc}", file=sys.stderr)
        raise SystemExit(2) from exc
    state = None if args.no_state else (args.state or Path(f"{args.source}.sync-state.json"))
    total = sum(1 for _ in read_rows(args.source))
    stat = args.source.stat()
    source_id = f"{args.source.resolve()}:{stat.st_size}:{int(stat.st_mtime)}"

    async def go() -> Summary:
        async with AsyncClient(args.base_url, args.token, connections=args.concurrency) as client:
            progress = Progress(total, sys.stderr, client)
            run = ContactSync(
                client,
                mapping,
                state_path=state,
                dry_run=args.dry_run,
                concurrency=args.concurrency,
                progress=progress,
                report=lambda line: print(line, file=sys.stderr),
            )
            try:
                return await run.run(read_rows(args.source), source_id)
            finally:
                progress.end()

    try:
        summary = asyncio.run(go())
    except KeyboardInterrupt:
        print("porch contacts sync: interrupted; run it again to go on", file=sys.stderr)
        raise SystemExit(EX_INTERRUPTED) from None
    verb = "would be " if args.dry_run else ""
    print(
        f"{summary.created:,} {verb}created, {summary.updated:,} {verb}updated,"
        f" {summary.unchanged:,} unchanged, {summary.failed:,} failed"
        + (f", {summary.skipped:,} already done" if summary.skipped else "")
        + (
            f" ({summary.left_out:,} handles held by other contacts left out)"
            if summary.left_out
            else ""
        )
    )
    if args.failures is not None and summary.failures:
        with args.failures.open("w", newline="") as f:
            writer = csv.writer(f)
            writer.writerow(["row", "key", "reason"])
            for failure in summary.failures:
                writer.writerow([failure.row, failure.key, failure.reason])
    if summary.failed:
        raise SystemExit(EX_ROWS_FAILED)
