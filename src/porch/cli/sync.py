"""``porch sync``: Porch's (or Front's) data into a warehouse, once or on a schedule.

    porch sync [--config sync.toml] [--base-url URL] [--token T] [--destination DEST]
        [--dataset front] [--full-refresh [TABLE ...]] [--exclude-table T] [--exclude-column
        TABLE.COLUMN] [--hash-column TABLE.COLUMN] [--every 15m] [--batch 500]

DEST: ``duckdb:///front.duckdb`` (default ``porch-warehouse.duckdb``), ``postgresql://…``, or a
dlt destination name (``bigquery``, ``snowflake``, ``redshift``, ``databricks``, ``parquet``)
configured the dlt way. Flags override the config file. Exit status 0, 130 when interrupted
(run it again: it resumes from the last committed batch).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import TextIO

from porch.sync.warehouse.config import SyncConfig, interval

EX_INTERRUPTED = 130


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("sync", help="copy the company's data into a warehouse (DuckDB, …)")
    p.add_argument("--config", type=Path, default=None, help="a TOML or JSON settings file")
    p.add_argument("--base-url", default=None, help="the API's address (Porch's, or Front's)")
    p.add_argument("--token", default=None, help="default $PORCH_TOKEN")
    p.add_argument("--destination", default=None, help="duckdb:///FILE, postgresql://…, or dlt")
    p.add_argument("--dataset", default=None, help="the schema the tables go in (front)")
    p.add_argument(
        "--full-refresh",
        nargs="*",
        default=None,
        metavar="TABLE",
        help="re-sync these tables (none named: everything)",
    )
    p.add_argument("--exclude-table", action="append", default=[], metavar="TABLE")
    p.add_argument("--exclude-column", action="append", default=[], metavar="TABLE.COLUMN")
    p.add_argument("--hash-column", action="append", default=[], metavar="TABLE.COLUMN")
    p.add_argument("--every", default=None, help="run again after this interval (15m, 1h…)")
    p.add_argument("--runs", type=int, default=None, help="with --every: stop after N runs")
    p.add_argument("--batch", type=int, default=None, help="conversations per commit (500)")
    p.add_argument("--concurrency", type=int, default=None, help="requests in flight (64)")
    p.set_defaults(func=run)


def _pairs(items: list[str], into: dict[str, list[str]]) -> None:
    for item in items:
        table, dot, column = item.partition(".")
        if not dot or not column:
            raise SystemExit(f"porch sync: {item!r} is not TABLE.COLUMN")
        into.setdefault(table, []).append(column)


def config_of(args: argparse.Namespace) -> SyncConfig:
    try:
        config = SyncConfig.load(args.config) if args.config else SyncConfig()
    except (OSError, ValueError, TypeError) as exc:
        raise SystemExit(f"porch sync: bad config: {exc}") from exc
    for name in ("base_url", "token", "destination", "dataset", "every", "batch", "concurrency"):
        value = getattr(args, name)
        if value is not None:
            setattr(config, name, value)
    config.token = config.token or os.environ.get("PORCH_TOKEN", "")
    config.exclude_tables = [*config.exclude_tables, *args.exclude_table]
    _pairs(args.exclude_column, config.exclude_columns)
    _pairs(args.hash_column, config.hash_columns)
    if not config.base_url or not config.token:
        raise SystemExit("porch sync: give --base-url and --token (or PORCH_TOKEN, or --config)")
    return config


class Progress:
    """One line redrawn on a terminal; a line per commit otherwise (for logs)."""

    def __init__(self, out: TextIO) -> None:
        self.out = out
        self.on = out.isatty()
        self.started = time.monotonic()

    def __call__(self, s: object) -> None:
        from porch.sync.warehouse.engine import Summary

        assert isinstance(s, Summary)
        rate = s.rows / max(time.monotonic() - self.started, 1e-6)
        line = (
            f"{s.stage}: {s.conversations:,} conversations, {s.contacts:,} contacts,"
            f" {s.events:,} events | {s.rows:,} rows {rate:,.0f}/s | {s.requests:,} requests"
        )
        if self.on:
            self.out.write(f"\r{line}   ")
        else:
            self.out.write(f"committed: {line}\n")
        self.out.flush()

    def end(self) -> None:
        if self.on:
            self.out.write("\n")


def summary_text(s: object) -> str:
    from porch.sync.warehouse.engine import Summary

    assert isinstance(s, Summary)
    lines = [f"{'table':<30} {'inserted':>10} {'updated':>10} {'deleted':>10}"]
    for name in sorted(s.tables):
        c = s.tables[name]
        lines.append(f"{name:<30} {c.inserted:>10,} {c.updated:>10,} {c.deleted:>10,}")
    kind = "full" if s.full else "incremental"
    lines.append(
        f"{kind} sync: {s.rows:,} rows in {s.seconds:.1f} s, {s.records:,} records read"
        f" in {s.requests:,} requests"
    )
    if s.recent_seconds is not None:
        lines.append(f"recent window queryable after {s.recent_seconds:.1f} s")
    lines.extend(f"note: {n}" for n in s.notes)
    return "\n".join(lines)


def run(args: argparse.Namespace) -> None:
    try:
        from porch.sync.warehouse.api import run_sync
    except ImportError as exc:  # the extra is not installed
        raise SystemExit(f"porch sync needs pip install 'porch[warehouse]' ({exc})") from exc
    config = config_of(args)
    every = interval(config.every) if config.every else None
    runs = 0
    try:
        while True:
            progress = Progress(sys.stderr)
            summary = run_sync(
                config,
                full_refresh=args.full_refresh if runs == 0 else None,
                progress=progress,
                log=lambda line: print(line, file=sys.stderr, flush=True),
            )
            progress.end()
            print(summary_text(summary), flush=True)
            runs += 1
            if every is None or (args.runs is not None and runs >= args.runs):
                return
            time.sleep(every)
    except KeyboardInterrupt:
        print("porch sync: interrupted; run it again to resume", file=sys.stderr)
        raise SystemExit(EX_INTERRUPTED) from None
