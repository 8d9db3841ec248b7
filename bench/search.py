"""Search latency over the seeded company's 1,000,000 messages.

    .venv/bin/python bench/search.py [--scale 1.0] [--backends sqlite,postgresql]
        [--requests 200] [--max-seconds 120] [--sqlite-db FILE]
        [--postgresql-url URL --postgresql-facts FILE]

For each database it seeds the company of bench/seed.py, serves it with Porch (as
``porch serve`` runs it) and sends ``GET /conversations/search/{query}`` one request at a time
over one keep-alive connection, for each kind of query:

* two words: two words of middling frequency (each in a few percent of the messages), a
  different pair per request among 20;
* operators: ``tag:<tag id> is:open <word>``, the tag among the ten most used and the word
  among the same middling ones.

``--sqlite-db`` and ``--postgresql-url`` reuse a database bench/seed.py seeded (``--json``
wrote its facts), instead of seeding one per run; Porch migrates it on start.

A first request per kind is a discarded warm-up. It reports p50/p95/p99 latency (target p95 under
50 ms for both), and how many conversations the first page held. Bounded: ``--requests`` per
kind and ``--max-seconds`` per kind, whichever comes first. If Porch does not serve search yet
it says so and measures nothing.
"""

from __future__ import annotations

import argparse
import http.client
import json
import random
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote, urlsplit

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from bench.api_read import Server, machine  # noqa: E402
from bench.common import (  # noqa: E402
    add_seed_args,
    backends_of,
    percentile,
    seeded_database,
    start_porch,
)
from bench.seed import Seeded  # noqa: E402

TARGET_P95_MS = 50.0


@dataclass
class Result:
    backend: str
    kind: str
    example: str
    latencies_ms: list[float] = field(default_factory=list)
    results: list[int] = field(default_factory=list)
    errors: int = 0
    note: str = ""


def queries(done: Seeded, kind: str, count: int) -> list[str]:
    rng = random.Random(f"{kind}-{done.conversations}")
    words = done.common_words
    if kind == "two words":
        pairs = [" ".join(rng.sample(words, 2)) for _ in range(20)]
        return [pairs[i % len(pairs)] for i in range(count)]
    return [
        f"tag:{rng.choice(done.tag_ids[:10])} is:open {rng.choice(words)}" for _ in range(count)
    ]


def run_kind(
    server: Server, token: str, backend: str, kind: str, qs: list[str], max_seconds: float
) -> Result:
    parts = urlsplit(server.url)
    conn = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=30)
    headers = {"Authorization": f"Bearer {token}"}
    out = Result(backend, kind, qs[0])
    deadline = time.monotonic() + max_seconds
    try:
        for i, q in enumerate(qs):
            if time.monotonic() > deadline:
                out.note = f"stopped after {max_seconds:.0f} s"
                break
            started = time.perf_counter()
            conn.request("GET", "/conversations/search/" + quote(q, safe=""), headers=headers)
            resp = conn.getresponse()
            raw = resp.read()
            took = (time.perf_counter() - started) * 1000
            if resp.status != 200:
                out.errors += 1
                if out.errors == 1:
                    out.note = f"{resp.status}: {raw[:200]!r}"
                continue
            if i == 0:
                continue  # warm-up
            out.latencies_ms.append(took)
            out.results.append(len(json.loads(raw).get("_results", [])))
    finally:
        conn.close()
    return out


def served(server: Server, token: str) -> str | None:
    """None if Porch answers a search, else what it answered."""
    from bench.api_read import http

    status, body = http("GET", server.url + "/conversations/search/hello", token)
    if status == 200:
        return None
    return f"{status} {json.dumps(body)[:200]}"


def run_all(porch: Server, done: Seeded, backend: str, args: argparse.Namespace) -> list[Result]:
    """Both kinds of query against a running Porch; nothing if it does not serve search."""
    why = served(porch, done.token)
    if why is not None:
        print(f"[{backend}] search is not served yet (GET /conversations/search: {why})")
        return []
    out = []
    for kind in ("two words", "operators"):
        qs = queries(done, kind, args.requests + 1)
        r = run_kind(porch, done.token, backend, kind, qs, args.max_seconds)
        out.append(r)
        if r.latencies_ms:
            print(
                f"[{backend}] search {kind:<10} {len(r.latencies_ms)} requests:"
                f" p50 {percentile(r.latencies_ms, 50):.1f} ms"
                f"  p95 {percentile(r.latencies_ms, 95):.1f} ms"
                f"  p99 {percentile(r.latencies_ms, 99):.1f} ms"
                f"  errors {r.errors} {r.note}",
                flush=True,
            )
        else:
            print(f"[{backend}] search {kind}: no answer measured; {r.note}", flush=True)
    return out


def run_backend(backend: str, args: argparse.Namespace, tmp: Path) -> list[Result]:
    work = tmp / backend
    work.mkdir()
    with seeded_database(backend, args, work) as (db, done):
        porch = start_porch(db.url, work, args.porch_src)
        try:
            return run_all(porch, done, backend, args)
        finally:
            porch.stop()


def table(results: list[Result]) -> str:
    lines = [
        "| backend | query | example | requests | p50 ms | p95 ms | p99 ms | max ms"
        " | results on the first page (median) | target p95 < 50 ms |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        if not r.latencies_ms:
            lines.append(
                f"| {r.backend} | {r.kind} | `{r.example}` | 0 | – | – | – | – | – | {r.note} |"
            )
            continue
        p95 = percentile(r.latencies_ms, 95)
        verdict = "met" if p95 < TARGET_P95_MS and not r.errors else "**missed**"
        if r.errors:
            verdict += f", {r.errors} errors"
        lines.append(
            f"| {r.backend} | {r.kind} | `{r.example}` | {len(r.latencies_ms)}"
            f" | {percentile(r.latencies_ms, 50):.1f} | {p95:.1f}"
            f" | {percentile(r.latencies_ms, 99):.1f} | {max(r.latencies_ms):.1f}"
            f" | {sorted(r.results)[len(r.results) // 2]} | {verdict} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    add_seed_args(p)
    p.add_argument("--requests", type=int, default=200, help="measured requests per query kind")
    p.add_argument("--max-seconds", type=float, default=120, help="time bound per query kind")
    p.add_argument(
        "--porch-src",
        type=Path,
        default=None,
        metavar="DIR",
        help="serve the porch package in DIR (a patched copy of src/) instead of the working tree",
    )
    args = p.parse_args(argv)
    backends = backends_of(p, args)
    print("machine: " + ", ".join(f"{k} {v}" for k, v in machine().items()), flush=True)
    results: list[Result] = []
    with tempfile.TemporaryDirectory(prefix="porch-bench-search-") as tmp:
        for backend in backends:
            results += run_backend(backend, args, Path(tmp))
    cmd = " ".join(["bench/search.py", *(argv if argv is not None else sys.argv[1:])])
    print(f"\n{cmd}: sequential requests on one keep-alive connection\n")
    if results:
        print(table(results))
    else:
        print("nothing measured: search is not served yet")


if __name__ == "__main__":
    main()
