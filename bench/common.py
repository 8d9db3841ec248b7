"""What the conversation benchmarks share: a database per backend, the seeded company, the two
servers (Porch as ``porch serve`` runs it, and bench/bare_app.py), and a small report helper.

The process helpers (wrk, CPU accounting, server start and stop) are bench/api_read.py's.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from bench.api_read import BIN, Server, durable_postgres, free_port, start  # noqa: E402
from bench.seed import Seeded, seed  # noqa: E402


@dataclass
class Database:
    backend: str
    url: str
    # PostgreSQL's postmaster (its processes' CPU is counted), None on SQLite.
    db_pid: int | None
    version: str


@contextmanager
def database(backend: str, work: Path) -> Iterator[Database]:
    """A fresh database: a SQLite file in ``work``, or a private PostgreSQL cluster with fsync,
    synchronous_commit and full_page_writes on, stopped (and removed) on the way out."""
    if backend == "sqlite":
        import sqlite3

        yield Database(backend, f"sqlite:///{work / 'porch.db'}", None, sqlite3.sqlite_version)
        return
    from tests.pg import PgServer

    pg = PgServer()
    try:
        pg.start()
        version = durable_postgres(pg)
        url = pg.create_database("porch_bench")
        db_pid = None
        if pg._dir is not None:  # a private cluster: count its processes' CPU
            pid_file = Path(pg._dir) / "data" / "postmaster.pid"
            db_pid = int(pid_file.read_text().split()[0])
        yield Database(backend, url, db_pid, version)
    finally:
        pg.stop()


def add_seed_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--backends", default="sqlite,postgresql")
    p.add_argument(
        "--scale",
        type=float,
        default=1.0,
        help="fraction of the full company (100,000 conversations, 1,000,000 messages)",
    )
    p.add_argument("--seed", type=int, default=1)
    p.add_argument(
        "--sqlite-db",
        type=Path,
        default=None,
        metavar="FILE",
        help="reuse a SQLite database bench/seed.py seeded (its --json facts in FILE.json)",
    )
    p.add_argument(
        "--postgresql-url",
        default=None,
        metavar="URL",
        help="reuse a PostgreSQL database bench/seed.py seeded (needs --postgresql-facts)",
    )
    p.add_argument(
        "--postgresql-facts",
        type=Path,
        default=None,
        metavar="FILE",
        help="the --json facts bench/seed.py wrote when it seeded --postgresql-url",
    )


def backends_of(p: argparse.ArgumentParser, args: argparse.Namespace) -> list[str]:
    backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    unknown = set(backends) - {"sqlite", "postgresql"}
    if unknown or not backends:
        p.error(f"--backends takes sqlite and/or postgresql, not {', '.join(unknown)}")
    return backends


@contextmanager
def seeded_database(
    backend: str, args: argparse.Namespace, work: Path
) -> Iterator[tuple[Database, Seeded]]:
    """A database of ``backend`` holding the seeded company (``--scale`` of the full size)."""
    if backend == "sqlite" and args.sqlite_db is not None:
        facts = json.loads(args.sqlite_db.with_suffix(args.sqlite_db.suffix + ".json").read_text())
        done = Seeded(**facts)
        import sqlite3

        yield Database(backend, f"sqlite:///{args.sqlite_db}", None, sqlite3.sqlite_version), done
        return
    if backend == "postgresql" and getattr(args, "postgresql_url", None):
        if args.postgresql_facts is None:
            raise SystemExit("--postgresql-url needs --postgresql-facts")
        import psycopg

        done = Seeded(**json.loads(args.postgresql_facts.read_text()))
        with psycopg.connect(args.postgresql_url) as conn:
            row = conn.execute("SELECT version(), current_setting('fsync')").fetchone()
        version = f"{row[0].split(' on ')[0]}, fsync={row[1]}" if row else "?"
        yield Database(backend, args.postgresql_url, None, version), done
        return
    with database(backend, work) as db:
        print(f"[{backend}] {db.version}; seeding (scale {args.scale})", flush=True)
        done = seed(
            db.url,
            conversations=max(1, round(100_000 * args.scale)),
            messages=max(1, round(1_000_000 * args.scale)),
            seed=args.seed,
            log=lambda line: print(f"[{backend}] {line}", flush=True),
        )
        print(
            f"[{backend}] seeded {done.conversations:,} conversations and {done.messages:,}"
            f" messages in {done.seconds:.0f} s",
            flush=True,
        )
        yield db, done


def start_porch(url: str, work: Path, pythonpath: Path | None = None) -> Server:
    """Porch as ``porch serve`` runs it (uvicorn, uvloop, httptools, one worker).

    ``pythonpath``: a directory holding another ``porch`` package to serve instead (a patched
    copy of src/, to measure a proposed change without touching the working tree)."""
    port = free_port()
    env = {"PORCH_DATABASE_URL": url}
    if pythonpath is not None:
        env["PYTHONPATH"] = str(pythonpath)
    return start(
        "Porch",
        [str(BIN / "porch"), "serve", "--data-dir", str(work), "--port", str(port)],
        env,
        port,
        work / "porch.log",
    )


def start_bare(url: str, company_id: int, token: str, work: Path) -> Server:
    """bench/bare_app.py under the same uvicorn settings."""
    port = free_port()
    cmd = [str(BIN / "python"), "-m", "uvicorn", "bench.bare_app:app", "--app-dir", str(REPO)]
    cmd += ["--host", "127.0.0.1", "--port", str(port), "--loop", "uvloop", "--http", "httptools"]
    cmd += ["--no-access-log", "--log-level", "warning"]
    env = {"BENCH_DATABASE_URL": url, "BENCH_COMPANY_ID": str(company_id), "BENCH_TOKEN": token}
    return start("bare", cmd, env, port, work / "bare.log")


def settle(server: Server, limit: float = 180.0) -> float:
    """Wait until ``server`` stops using CPU (requests wrk gave up on may still be running, and
    would slow whatever is measured next); bounded by ``limit`` seconds. Returns the wait."""
    import time

    from bench.api_read import cpu_seconds

    started = time.monotonic()
    last = cpu_seconds(server.proc.pid)
    while time.monotonic() - started < limit:
        time.sleep(0.5)
        now = cpu_seconds(server.proc.pid)
        if now - last < 0.05:
            break
        last = now
    return time.monotonic() - started


def sequential_ms(server: Server, token: str, paths: list[str]) -> list[float]:
    """Each of ``paths`` requested in turn on one keep-alive connection: milliseconds each
    (the first, a warm-up, left out). Non-200 answers raise."""
    import http.client
    import time
    from urllib.parse import urlsplit

    parts = urlsplit(server.url)
    conn = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=120)
    out = []
    try:
        for path in paths:
            started = time.perf_counter()
            conn.request("GET", path, headers={"Authorization": f"Bearer {token}"})
            resp = conn.getresponse()
            resp.read()
            if resp.status != 200:
                raise RuntimeError(f"{server.name} answered {resp.status} to GET {path}")
            out.append((time.perf_counter() - started) * 1000)
    finally:
        conn.close()
    return out[1:]


def percentile(values: list[float], pct: float) -> float:
    """The ``pct`` percentile (nearest rank) of ``values``."""
    ordered = sorted(values)
    rank = max(1, round(pct / 100 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


def median(values: list[float]) -> float:
    return float(statistics.median(values))
