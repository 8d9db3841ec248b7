"""Read benchmark: Porch against a bare Starlette app reading the same rows.

    .venv/bin/python bench/api_read.py [--duration 10] [--rounds 3] [--backends sqlite,postgresql]

For each database it seeds one company (rate limit 10,000,000/min, so the limiter never blocks),
a few teammates and 200 tags, then serves the data twice on loopback ports: Porch as
``porch serve`` runs it (uvicorn, uvloop, httptools, one worker, no access log) and
bench/bare_app.py under the same uvicorn settings. Both answer the same endpoints with the same
JSON (checked before measuring):

* one row: ``GET /teammates/{id}`` (``GET /tags/{id}`` while Porch does not serve the former);
* a page: ``GET /tags?limit=100``.

Load is wrk (``-t2 -c64 --timeout 5s --latency``, the Authorization header set): a short
discarded warm-up, then rounds interleaved Porch, bare, Porch, bare..., and the bare app's raw
ASGI ``/floor`` (no database) to calibrate the machine. The table reports medians over the
rounds: req/s, the Porch/bare ratio, p50/p99 latency, server CPU per request (the server
process's utime+stime over the run), PostgreSQL's CPU per request, and how many cores anything
else on the machine kept busy meanwhile. PostgreSQL runs in a private cluster (tests/pg.py) with
fsync and synchronous_commit on. ``--profile DIR`` adds a py-spy run per server and endpoint.
docs/benchmarks.md has the figures and how to read them.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import resource
import shutil
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
TARGET_RATIO = 0.4
TARGET_P99_MS = 20.0
TAGS = 200
TEAMMATES = ("dwight", "jim", "pam", "angela")


# --- processes -------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def cpu_seconds(pid: int) -> float:
    """utime+stime of ``pid`` and its descendants, in seconds."""
    tick = os.sysconf("SC_CLK_TCK")
    parents: dict[int, int] = {}
    times: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            raw = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        fields = raw.rsplit(")", 1)[1].split()
        parents[int(entry)] = int(fields[1])
        times[int(entry)] = int(fields[11]) + int(fields[12])
    wanted = {pid}
    for _ in range(10):  # a process tree a few levels deep at most
        more = {p for p, parent in parents.items() if parent in wanted} - wanted
        if not more:
            break
        wanted |= more
    return sum(times.get(p, 0) for p in wanted) / tick


def http(method: str, url: str, token: str | None = None, body: Any = None) -> tuple[int, Any]:
    """One request with the stdlib (the benchmark needs no HTTP client package)."""
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method)  # noqa: S310 - loopback URLs
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    if data is not None:
        req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:  # noqa: S310
            raw = resp.read()
            return resp.status, json.loads(raw) if raw else None
    except urllib.error.HTTPError as exc:
        raw = exc.read()
        return exc.code, json.loads(raw) if raw else None


@dataclass
class Server:
    name: str
    url: str
    proc: subprocess.Popen[bytes]
    log: Path

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=15)


def start(name: str, cmd: list[str], env: dict[str, str], port: int, log: Path) -> Server:
    """Start a server and wait (30 s at most) until it accepts connections."""
    with log.open("wb") as out:
        proc = subprocess.Popen(
            cmd, cwd=REPO, env={**os.environ, **env}, stdout=out, stderr=subprocess.STDOUT
        )
    url = f"http://127.0.0.1:{port}"
    server = Server(name, url, proc, log)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            break
        try:
            with urllib.request.urlopen(url + "/healthz", timeout=2):  # noqa: S310
                return server
        except urllib.error.HTTPError:
            return server  # it answers (the bare app has no /healthz)
        except OSError:
            time.sleep(0.1)
    server.stop()
    raise RuntimeError(f"{name} did not start; see {log}:\n{log.read_text()[-2000:]}")


# --- wrk -------------------------------------------------------------------------------------


def ensure_wrk() -> str:
    found = shutil.which("wrk")
    if found:
        return found
    if os.geteuid() != 0:
        sys.exit("wrk is not installed: apt-get install wrk (as root)")
    print("installing wrk (apt-get install wrk)", flush=True)
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for cmd in (["apt-get", "update", "-qq"], ["apt-get", "install", "-y", "-qq", "wrk"]):
        subprocess.run(cmd, check=True, env=env, stdin=subprocess.DEVNULL, timeout=600)
    found = shutil.which("wrk")
    if not found:
        sys.exit("wrk is still missing after apt-get install wrk")
    return found


@dataclass
class Run:
    rps: float
    requests: int
    p50_ms: float
    p99_ms: float
    errors: int
    cpu_us_per_req: float
    # PostgreSQL's processes, per request (0 on SQLite).
    db_cpu_us_per_req: float
    # Cores busy with anything but the server, wrk and PostgreSQL during the run: other work
    # on the machine that competed with the measurement.
    other_cores: float


def machine_busy_seconds() -> float:
    """CPU seconds all cores spent on anything but idling, since boot."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle, iowait
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


_UNIT = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def _latency(text: str, pct: str) -> float:
    m = re.search(rf"^\s+{pct}%\s+([\d.]+)(us|ms|s)\s*$", text, re.M)
    return float(m.group(1)) * _UNIT[m.group(2)] if m else float("nan")


def parse_wrk(text: str) -> tuple[float, int, float, float, int]:
    """Requests/sec, request count, p50 and p99 (ms), and failed requests from wrk's output."""
    rps = re.search(r"Requests/sec:\s+([\d.]+)", text)
    count = re.search(r"(\d+) requests in", text)
    errors = 0
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    if non2xx:
        errors += int(non2xx.group(1))
    sock = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text)
    if sock:
        errors += sum(int(g) for g in sock.groups())
    if not rps or not count:
        raise RuntimeError(f"unexpected wrk output:\n{text}")
    return (
        float(rps.group(1)),
        int(count.group(1)),
        _latency(text, "50"),
        _latency(text, "99"),
        errors,
    )


def wrk(
    binary: str,
    server: Server,
    path: str,
    token: str,
    seconds: int,
    args: argparse.Namespace,
    db_pid: int | None = None,
    script: Path | None = None,
) -> Run:
    """One wrk run against ``server`` (``script``: a Lua script choosing the requests)."""
    cmd = [
        binary,
        f"-t{args.threads}",
        f"-c{args.connections}",
        f"-d{seconds}s",
        "--timeout",
        "5s",
        "--latency",
        "-H",
        f"Authorization: Bearer {token}",
        *(["-s", str(script)] if script is not None else []),
        server.url + path,
    ]

    def wrk_cpu() -> float:
        ru = resource.getrusage(resource.RUSAGE_CHILDREN)
        return ru.ru_utime + ru.ru_stime

    before = (cpu_seconds(server.proc.pid), cpu_seconds(db_pid) if db_pid else 0.0)
    busy, own, start_at = machine_busy_seconds(), wrk_cpu(), time.monotonic()
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 60, check=True)
    elapsed = time.monotonic() - start_at
    busy, own = machine_busy_seconds() - busy, wrk_cpu() - own
    cpu = cpu_seconds(server.proc.pid) - before[0]
    db_cpu = (cpu_seconds(db_pid) if db_pid else 0.0) - before[1]
    rps, count, p50, p99, errors = parse_wrk(out.stdout)
    per = 1e6 / max(count, 1)
    others = max(0.0, busy - cpu - db_cpu - own) / elapsed
    return Run(rps, count, p50, p99, errors, cpu * per, db_cpu * per, others)


def profile(
    wrk_bin: str,
    server: Server,
    path: str,
    token: str,
    args: argparse.Namespace,
    out: Path,
    script: Path | None = None,
) -> None:
    """An extra, unreported run with py-spy sampling the server: collapsed stacks in ``out``."""
    spy = shutil.which("py-spy", path=str(BIN)) or shutil.which("py-spy")
    if spy is None:
        sys.exit("--profile needs py-spy: .venv/bin/pip install py-spy")
    out.parent.mkdir(parents=True, exist_ok=True)
    cmd = [spy, "record", "--pid", str(server.proc.pid), "--duration", str(args.duration)]
    cmd += ["--rate", "250", "--format", "raw", "--output", str(out)]
    # --native shows C frames (the GC, syscalls) but must pause the process to sample it.
    cmd.append("--native" if args.profile_native else "--nonblocking")
    log = out.with_suffix(".log")
    with log.open("wb") as sink, subprocess.Popen(cmd, stdout=sink, stderr=sink) as spying:
        time.sleep(1)  # py-spy attaches
        wrk(wrk_bin, server, path, token, args.duration, args, script=script)
        spying.wait(timeout=args.duration + 60)
    if spying.returncode:
        print(f"py-spy failed on {server.name}: {log.read_text()[-500:]}", flush=True)
        return
    log.unlink()
    print(f"profile of {server.name} {path}: {out}", flush=True)


# --- data ------------------------------------------------------------------------------------


@dataclass
class Seeded:
    company_id: int
    token: str


def durable_postgres(pg: Any) -> str:
    """Turn durability back on (tests/pg.py turns it off for speed); returns the version."""
    import psycopg

    with psycopg.connect(pg.url, autocommit=True) as conn:
        for setting in ("fsync", "synchronous_commit", "full_page_writes"):
            conn.execute(f"ALTER SYSTEM SET {setting} = on")
        conn.execute("SELECT pg_reload_conf()")
        time.sleep(0.5)  # the reload is asynchronous
        row = conn.execute("SELECT version(), current_setting('fsync')").fetchone()
    assert row is not None
    return f"{row[0].split(' on ')[0]}, fsync={row[1]}"


def seed_company(url: str) -> Seeded:
    from porch.domain import companies
    from porch.store import migrate
    from porch.store.db import connect

    migrate.upgrade(url)

    async def go() -> companies.NewCompany:
        db = await connect(url, pool_size=1)
        try:
            return await companies.do_create_company(
                db,
                name="Bench Company",
                admin_email="admin@bench.example",
                rate_limit_per_minute=10_000_000,
            )
        finally:
            await db.close()

    new = asyncio.run(go())
    return Seeded(new.company_id, new.token)


def seed_api(base: str, token: str) -> tuple[str, str]:
    """Teammates and tags through Porch's API; returns a teammate's and a tag's public id."""
    teammate_ids: list[str] = []
    for name in TEAMMATES:
        status, body = http(
            "POST",
            base + "/porch/teammates",
            token,
            {"email": f"{name}@bench.example", "first_name": name.title(), "last_name": "Bench"},
        )
        if status != 201:
            raise RuntimeError(f"POST /porch/teammates: {status} {body}")
        teammate_ids.append(body["id"])
    tag_ids: list[str] = []
    for i in range(TAGS):
        # Three quarters company tags, the rest team tags (POST /tags files them in a team).
        path = "/company/tags" if i % 4 else "/tags"
        tag = {"name": f"tag {i:03d}", "description": f"Benchmark tag number {i}"}
        if i % 3 == 0:
            tag["highlight"] = "blue"
        status, body = http("POST", base + path, token, tag)
        if status != 201:
            raise RuntimeError(f"POST {path}: {status} {body}")
        tag_ids.append(body["id"])
    return teammate_ids[0], tag_ids[0]


def same_body(porch: Server, bare: Server, path: str, token: str) -> str | None:
    """None if both servers answer ``path`` with the same JSON (links aside), else why not."""
    s1, b1 = http("GET", porch.url + path, token)
    s2, b2 = http("GET", bare.url + path, token)
    if (s1, s2) != (200, 200):
        return f"statuses {s1} (Porch) and {s2} (bare)"
    n1 = json.dumps(b1, sort_keys=True).replace(porch.url, "")
    n2 = json.dumps(b2, sort_keys=True).replace(bare.url, "")
    if n1 != n2:
        return f"bodies differ:\n  Porch {n1[:600]}\n  bare  {n2[:600]}"
    return None


# --- one backend -----------------------------------------------------------------------------


@dataclass
class Comparison:
    backend: str
    endpoint: str
    porch: list[Run] = field(default_factory=list)
    bare: list[Run] = field(default_factory=list)
    mismatch: str | None = None


def run_backend(
    backend: str, args: argparse.Namespace, wrk_bin: str, tmp: Path
) -> list[Comparison]:
    work = tmp / backend
    work.mkdir()
    pg = None
    db_pid: int | None = None
    servers: list[Server] = []
    try:
        if backend == "postgresql":
            sys.path.insert(0, str(REPO))
            from tests.pg import PgServer

            pg = PgServer()
            pg.start()
            print(f"[{backend}] {durable_postgres(pg)}", flush=True)
            url = pg.create_database("porch_bench")
            if pg._dir is not None:  # a private cluster: count its processes' CPU
                pid_file = Path(pg._dir) / "data" / "postmaster.pid"
                db_pid = int(pid_file.read_text().split()[0])
        else:
            url = f"sqlite:///{work / 'porch.db'}"
        seeded = seed_company(url)
        port = free_port()
        porch = start(
            "Porch",
            [str(BIN / "porch"), "serve", "--data-dir", str(work), "--port", str(port)],
            {"PORCH_DATABASE_URL": url},
            port,
            work / "porch.log",
        )
        servers.append(porch)
        teammate, tag = seed_api(porch.url, seeded.token)
        port = free_port()
        bare_cmd = [str(BIN / "python"), "-m", "uvicorn", "bench.bare_app:app", "--app-dir"]
        bare_cmd += [str(REPO), "--host", "127.0.0.1", "--port", str(port), "--loop", "uvloop"]
        bare_cmd += ["--http", "httptools", "--no-access-log", "--log-level", "warning"]
        bare = start(
            "bare",
            bare_cmd,
            {
                "BENCH_DATABASE_URL": url,
                "BENCH_COMPANY_ID": str(seeded.company_id),
                "BENCH_TOKEN": seeded.token,
            },
            port,
            work / "bare.log",
        )
        servers.append(bare)

        one = f"/teammates/{teammate}"
        status, _ = http("GET", porch.url + one, seeded.token)
        if status != 200:
            print(
                f"[{backend}] Porch answers {status} to GET /teammates/{{id}}: using /tags/{{id}}"
            )
            one = f"/tags/{tag}"
        endpoints = {
            one.rsplit("/", 1)[0] + "/{id}": one,
            "/tags?limit=100": "/tags?limit=100",
        }
        comparisons = []
        for label, path in endpoints.items():
            c = Comparison(backend, "GET " + label)
            c.mismatch = same_body(porch, bare, path, seeded.token)
            if c.mismatch:
                print(f"[{backend}] WARNING: {c.endpoint}: {c.mismatch}", flush=True)
            comparisons.append(c)

        floor = Comparison(backend, "GET /floor (raw ASGI)")
        print(f"[{backend}] warm-up ({args.warmup} s per server and endpoint)", flush=True)
        for path in endpoints.values():
            for server in (porch, bare):
                wrk(wrk_bin, server, path, seeded.token, args.warmup, args, db_pid)
        for r in range(args.rounds):
            plan: list[tuple[Comparison, str, tuple[tuple[Server, list[Run]], ...]]] = [
                (c, path, ((porch, c.porch), (bare, c.bare)))
                for c, path in zip(comparisons, endpoints.values(), strict=True)
            ]
            plan.append((floor, "/floor", ((bare, floor.bare),)))
            for c, path, sides in plan:
                for server, runs in sides:
                    run = wrk(wrk_bin, server, path, seeded.token, args.duration, args, db_pid)
                    runs.append(run)
                    print(
                        f"[{backend}] round {r + 1}/{args.rounds} {c.endpoint:<22} "
                        f"{server.name:<5} {run.rps:9.0f} req/s  p50 {run.p50_ms:6.2f} ms  "
                        f"p99 {run.p99_ms:6.2f} ms  {run.cpu_us_per_req:5.0f} µs CPU/req  "
                        f"(db {run.db_cpu_us_per_req:4.0f})  others {run.other_cores:4.2f} cores  "
                        f"errors {run.errors}",
                        flush=True,
                    )
        if args.profile:
            for c, path in zip(comparisons, endpoints.values(), strict=True):
                for server in (porch, bare):
                    name = f"{backend} {c.endpoint} {server.name}".lower()
                    out = args.profile / (re.sub(r"[^a-z0-9]+", "-", name).strip("-") + ".txt")
                    profile(wrk_bin, server, path, seeded.token, args, out)
        for server in servers:
            if server.proc.poll() is not None:
                raise RuntimeError(f"{server.name} died; see {server.log}")
        return [*comparisons, floor]
    finally:
        for server in servers:
            server.stop()
        if pg is not None:
            pg.stop()


# --- report ----------------------------------------------------------------------------------


def med(runs: list[Run], attr: str) -> float:
    return float(statistics.median(getattr(r, attr) for r in runs))


def machine() -> dict[str, str]:
    model = "unknown"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            model = line.split(":", 1)[1].strip()
            break
    wrk_version = subprocess.run(["wrk", "--version"], capture_output=True, text=True).stdout
    return {
        "nproc": str(os.cpu_count()),
        "cpu": model,
        "python": sys.version.split()[0],
        "sqlite": sqlite3.sqlite_version,
        "wrk": wrk_version.split(" [")[0].strip(),
    }


def table(comparisons: list[Comparison]) -> str:
    head = (
        "| backend | endpoint | Porch req/s | bare req/s | ratio | Porch p50 / p99 ms "
        "| bare p50 / p99 ms | server CPU µs/req Porch / bare | DB CPU µs/req Porch / bare "
        "| other load (cores) | target |\n"
        "|---|---|---|---|---|---|---|---|---|---|---|\n"
    )
    lines = []
    for c in comparisons:
        b_rps = med(c.bare, "rps")
        b_spread = f"{min(r.rps for r in c.bare):,.0f}–{max(r.rps for r in c.bare):,.0f}"
        bare_cells = (
            f"| {b_rps:,.0f} ({b_spread}) ",
            f"| {med(c.bare, 'p50_ms'):.2f} / {med(c.bare, 'p99_ms'):.2f} ",
            f"{med(c.bare, 'cpu_us_per_req'):.0f} ",
            f"{med(c.bare, 'db_cpu_us_per_req'):.0f} ",
        )
        others = [r.other_cores for r in c.porch + c.bare]
        load = f"| {statistics.median(others):.2f} (max {max(others):.2f}) "
        if not c.porch:  # the HTTP floor: the bare server only
            lines.append(
                f"| {c.backend} | {c.endpoint} | – {bare_cells[0]}| – | – {bare_cells[1]}"
                f"| – / {bare_cells[2]}| – / {bare_cells[3]}{load}| calibration |"
            )
            continue
        p_rps = med(c.porch, "rps")
        ratio = p_rps / b_rps if b_rps else float("nan")
        p99 = med(c.porch, "p99_ms")
        errors = sum(r.errors for r in c.porch + c.bare)
        missed = []
        if ratio < TARGET_RATIO:
            missed.append("ratio")
        if p99 >= TARGET_P99_MS:
            missed.append("p99")
        if errors:
            missed.append(f"{errors} errors")
        if c.mismatch:
            missed.append("bodies differ")
        verdict = "met" if not missed else "missed: " + ", ".join(missed)
        p_spread = f"{min(r.rps for r in c.porch):,.0f}–{max(r.rps for r in c.porch):,.0f}"
        lines.append(
            f"| {c.backend} | {c.endpoint} | {p_rps:,.0f} ({p_spread}) {bare_cells[0]}"
            f"| {ratio:.2f} | {med(c.porch, 'p50_ms'):.2f} / {p99:.2f} {bare_cells[1]}"
            f"| {med(c.porch, 'cpu_us_per_req'):.0f} / {bare_cells[2]}"
            f"| {med(c.porch, 'db_cpu_us_per_req'):.0f} / {bare_cells[3]}"
            f"{load}| {verdict} |"
        )
    return head + "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--duration", type=int, default=10, help="seconds per measured run")
    p.add_argument("--rounds", type=int, default=3, help="measured runs per server and endpoint")
    p.add_argument("--warmup", type=int, default=3, help="seconds of discarded warm-up")
    p.add_argument("--backends", default="sqlite,postgresql")
    p.add_argument("--connections", type=int, default=64)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--json", type=Path, default=None, help="also write the raw runs here")
    p.add_argument(
        "--profile",
        type=Path,
        default=None,
        metavar="DIR",
        help="after measuring, profile both servers with py-spy (collapsed stacks into DIR)",
    )
    p.add_argument("--profile-native", action="store_true", help="py-spy --native (C frames)")
    args = p.parse_args(argv)
    backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    unknown = set(backends) - {"sqlite", "postgresql"}
    if unknown or not backends:
        p.error(f"--backends takes sqlite and/or postgresql, not {', '.join(unknown)}")
    try:
        import starlette  # noqa: F401 - the bare app's framework
    except ImportError:
        sys.exit("the bare app needs starlette: .venv/bin/pip install -e '.[bench]'")

    wrk_bin = ensure_wrk()
    facts = machine()
    print("machine: " + ", ".join(f"{k} {v}" for k, v in facts.items()), flush=True)
    comparisons: list[Comparison] = []
    with tempfile.TemporaryDirectory(prefix="porch-bench-") as tmp:
        for backend in backends:
            comparisons += run_backend(backend, args, wrk_bin, Path(tmp))
    cmd = " ".join(["bench/api_read.py", *(argv if argv is not None else sys.argv[1:])])
    print(
        f"\n{cmd}: wrk -t{args.threads} -c{args.connections} -d{args.duration}s, "
        f"{args.rounds} rounds, medians (min–max req/s)\n"
    )
    print(table(comparisons))
    print(f"\ntargets: Porch/bare req/s >= {TARGET_RATIO}, Porch p99 < {TARGET_P99_MS:.0f} ms")
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "machine": facts,
                    "args": vars(args) | {"json": str(args.json)},
                    "results": [asdict(c) for c in comparisons],
                },
                indent=2,
            )
        )


if __name__ == "__main__":
    main()
