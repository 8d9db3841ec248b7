"""Webhook delivery throughput and latency: events fanned out to 4 app subscriptions, POSTed by
Porch's delivery worker to a loopback receiver.

    .venv/bin/python bench/webhooks.py [--events 20000] [--rate 200] [--steady-seconds 20]

Porch runs as ``porch serve`` (workers in-process) on a fresh SQLite database; the receiver is
bench/webhook_receiver.py under uvicorn. The bench appends ``tag`` events straight to the log
(in transactions of 500, spread over 1,000 shared conversations) and measures:

- burst: all ``--events`` appended at once; deliveries/s from the first append to the last
  arrival, and event-to-delivery latency (``emitted_at`` → the receiver got it) p50/p99;
- steady: ``--rate`` events/s for ``--steady-seconds``; latency p50/p99;
- baselines: a bare httpx client, and bare ``porch.client.wire`` (the worker's own HTTP client
  with nothing around it), POSTing the same bodies to the same receiver with the same number of
  connections (64): deliveries/s, and Porch's share of each.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

import httpx  # noqa: E402
import orjson  # noqa: E402

from bench.api_read import BIN, cpu_seconds, free_port, http, start  # noqa: E402
from bench.common import percentile  # noqa: E402

SUBSCRIPTIONS = 4
CONVERSATIONS = 1000


def _company(url: str) -> tuple[int, str, int]:
    """A company (its key, admin token) and a shared inbox with CONVERSATIONS conversations,
    written directly (the bench measures webhooks, not conversation creation)."""
    from porch.domain import companies
    from porch.store.db import connect

    async def go() -> tuple[int, str, int]:
        db = await connect(url, pool_size=1)
        try:
            new = await companies.do_create_company(
                db, name="Bench", admin_email="bench@example.com", rate_limit_per_minute=10**6
            )
            return new.company_id, new.token, new.team_id
        finally:
            await db.close()

    return asyncio.run(go())


def _append(url: str, company_id: int, convs: list[int], n: int, rate: float | None) -> None:
    """Append ``n`` tag events round-robin over ``convs``: in batches of 500 at once, or
    ``rate`` per second (batches of 10)."""
    from porch.events import log
    from porch.store.db import connect

    async def go() -> None:
        db = await connect(url, pool_size=1, sqlite_synchronous="NORMAL")
        try:
            batch = 500 if rate is None else 10
            start = time.monotonic()
            for i in range(0, n, batch):
                if rate is not None:
                    delay = start + i / rate - time.monotonic()
                    if delay > 0:
                        await asyncio.sleep(delay)
                async with db.transaction() as tx:
                    for j in range(i, min(n, i + batch)):
                        await log.append(
                            tx,
                            company_id=company_id,
                            type="tag",
                            source=log.SYSTEM,
                            target_type="tag",
                            target_id=1,
                            conversation_id=convs[j % len(convs)],
                        )
        finally:
            await db.close()

    asyncio.run(go())


def _dump(receiver: str) -> list[tuple[str, float]]:
    with httpx.Client(trust_env=False) as c:
        return [tuple(x) for x in c.get(receiver + "/dump").json()]


def _emitted(url: str) -> dict[str, float]:
    import sqlite3

    from porch import ids

    path = url.removeprefix("sqlite:///")
    with sqlite3.connect(path) as conn:
        rows = conn.execute("SELECT id, emitted_at FROM events WHERE type = 'tag'").fetchall()
    return {ids.encode(ids.EVENT, k): ms / 1000 for k, ms in rows}


def _wait_for(receiver: str, want: int, limit: float) -> list[tuple[str, float]]:
    got: list[tuple[str, float]] = []
    deadline = time.monotonic() + limit
    while len(got) < want and time.monotonic() < deadline:
        got += _dump(receiver)
        time.sleep(0.2)
    return got


def _latency(got: list[tuple[str, float]], emitted: dict[str, float]) -> tuple[float, float]:
    lat = [(at - emitted[eid]) * 1000 for eid, at in got if eid in emitted]
    return percentile(lat, 50), percentile(lat, 99)


async def _baseline(receiver: str, bodies: list[bytes]) -> float:
    """A bare httpx client: what a Python service POSTing webhooks typically uses."""
    limits = httpx.Limits(max_connections=64, max_keepalive_connections=64)
    async with httpx.AsyncClient(limits=limits, trust_env=False, timeout=5) as client:
        sem = asyncio.Semaphore(64)

        async def post(body: bytes) -> None:
            async with sem:
                await client.post(receiver + "/hook", content=body)

        start = time.monotonic()
        await asyncio.gather(*(post(b) for b in bodies))
        return len(bodies) / (time.monotonic() - start)


async def _baseline_wire(receiver: str, bodies: list[bytes]) -> float:
    """The HTTP client Porch's worker uses (porch.client.wire), with nothing around it: no
    database, no claims, no signatures — the ceiling of delivery on this machine."""
    from urllib.parse import urlsplit

    from porch.client import wire

    parts = urlsplit(receiver)
    origin = wire.origin_of("http", parts.hostname or "", parts.port)
    pool = wire.Pool(limit=64)
    headers = [(b"Content-Type", b"application/json")]
    sem = asyncio.Semaphore(64)

    async def post(body: bytes) -> None:
        async with sem:
            await pool.request("POST", origin, "/hook", headers, body)

    start = time.monotonic()
    await asyncio.gather(*(post(b) for b in bodies))
    rate = len(bodies) / (time.monotonic() - start)
    await pool.aclose()
    return rate


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--events", type=int, default=20_000)
    p.add_argument("--rate", type=float, default=200.0)
    p.add_argument("--steady-seconds", type=float, default=20.0)
    args = p.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="porch-bench-webhooks-"))
    url = f"sqlite:///{work / 'porch.db'}"
    from porch.store import migrate

    migrate.upgrade(url)
    company_id, token, team_id = _company(url)
    rport = free_port()
    rcmd = [str(BIN / "python"), "-m", "uvicorn", "bench.webhook_receiver:app"]
    rcmd += ["--app-dir", str(REPO), "--host", "127.0.0.1", "--port", str(rport)]
    rcmd += ["--loop", "uvloop", "--http", "httptools", "--no-access-log", "--log-level", "warning"]
    receiver = start("receiver", rcmd, {}, rport, work / "receiver.log")
    pport = free_port()
    env = {
        "PORCH_DATABASE_URL": url,
        "PORCH_SMTP_PORT": "0",
    }
    porch = start(
        "Porch",
        [str(BIN / "porch"), "serve", "--data-dir", str(work), "--port", str(pport)],
        env,
        pport,
        work / "porch.log",
    )
    try:
        from porch import ids

        api = porch.url
        http("PATCH", api + "/porch/company", token, {"allow_private_webhook_targets": True})
        for i in range(SUBSCRIPTIONS):
            status, body = http(
                "POST",
                api + "/porch/applications",
                token,
                {
                    "name": f"bench {i}",
                    "webhook_url": receiver.url + "/hook",
                    "subscriptions": ["tag_added"],
                },
            )
            assert status == 201, body
        status, inbox = http(
            "POST", api + f"/teams/{ids.encode(ids.TEAM, team_id)}/inboxes", token, {"name": "B"}
        )
        convs = []
        for i in range(CONVERSATIONS):
            status, conv = http(
                "POST",
                api + "/conversations",
                token,
                {"type": "task", "subject": f"c{i}", "inbox_id": inbox["id"]},
            )
            convs.append(ids.decode(ids.CONVERSATION, conv["id"]) or 0)
        _dump(receiver.url)

        # Burst.
        t0 = time.time()
        cpu0 = cpu_seconds(porch.proc.pid)
        _append(url, company_id, convs, args.events, None)
        want = args.events * SUBSCRIPTIONS
        got = _wait_for(receiver.url, want, limit=600)
        last = max(at for _, at in got) if got else time.time()
        cpu_per = (cpu_seconds(porch.proc.pid) - cpu0) / max(1, len(got)) * 1e6
        emitted = _emitted(url)
        rate = len(got) / (last - t0)
        p50, p99 = _latency(got, emitted)
        print(
            f"burst: {args.events:,} events x {SUBSCRIPTIONS} subscriptions: "
            f"{len(got):,}/{want:,} delivered, {rate:,.0f} deliveries/s, "
            f"latency p50 {p50:.0f} ms, p99 {p99:.0f} ms; Porch's CPU {cpu_per:,.0f} µs/delivery",
            flush=True,
        )

        # Steady.
        n = round(args.rate * args.steady_seconds)
        _append(url, company_id, convs, n, args.rate)
        got2 = _wait_for(receiver.url, n * SUBSCRIPTIONS, limit=120)
        emitted = _emitted(url)
        p50s, p99s = _latency(got2, emitted)
        print(
            f"steady: {args.rate:g} events/s for {args.steady_seconds:g} s: "
            f"{len(got2):,}/{n * SUBSCRIPTIONS:,} delivered, "
            f"latency p50 {p50s:.0f} ms, p99 {p99s:.0f} ms",
            flush=True,
        )

        # Baseline: the same bodies from a bare client.
        import sqlite3

        with sqlite3.connect(url.removeprefix("sqlite:///")) as conn:
            bodies = [
                r[0].encode()
                for r in conn.execute(
                    "SELECT body FROM webhook_deliveries ORDER BY id LIMIT ?", (want,)
                )
            ]
        base = asyncio.run(_baseline(receiver.url, bodies))
        _dump(receiver.url)
        bare = asyncio.run(_baseline_wire(receiver.url, bodies))
        _dump(receiver.url)
        print(
            f"baseline: bare httpx, 64 connections: {base:,.0f} deliveries/s "
            f"(Porch at {rate / base:.0%}); bare porch.client.wire, 64 connections: "
            f"{bare:,.0f} deliveries/s (Porch at {rate / bare:.0%})",
            flush=True,
        )
        print(
            orjson.dumps(
                {
                    "deliveries_per_s": rate,
                    "porch_cpu_us_per_delivery": cpu_per,
                    "burst_p50_ms": p50,
                    "burst_p99_ms": p99,
                    "steady_p50_ms": p50s,
                    "steady_p99_ms": p99s,
                    "baseline_httpx_per_s": base,
                    "baseline_wire_per_s": bare,
                }
            ).decode()
        )
    finally:
        porch.stop()
        receiver.stop()


if __name__ == "__main__":
    main()
