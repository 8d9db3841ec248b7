"""Conversation reads on the seeded company: Porch against the bare app on the same rows.

    .venv/bin/python bench/conversations.py [--scale 1.0] [--backends sqlite,postgresql]
        [--duration 10] [--rounds 3] [--sqlite-db FILE] [--profile DIR]

For each database it seeds the company of bench/seed.py (100,000 conversations and 1,000,000
messages at ``--scale 1``), serves it with Porch and with bench/bare_app.py (hand-written SQL,
no visibility rules, the same JSON: checked before measuring, on the list and on a sample of
conversations), and loads both with wrk, interleaved Porch, bare, Porch, bare... as
bench/api_read.py does:

* ``GET /conversations?limit=100``: the first page, most recent activity first (target: Porch at
  least 0.3 of the bare app's requests per second);
* ``GET /conversations/{id}``: a Lua script picks a random id among 1,000 seeded conversations
  per request (target: at least 0.4).

It prints req/s, the ratio, p50/p99 latency and CPU per request for each.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from bench import search as search_bench  # noqa: E402
from bench.api_read import Run, Server, ensure_wrk, machine, profile, same_body, wrk  # noqa: E402
from bench.common import (  # noqa: E402
    add_seed_args,
    backends_of,
    median,
    seeded_database,
    sequential_ms,
    settle,
    start_bare,
    start_porch,
)

# Search results, when --search measures them on the same seeded databases.
SEARCHES: list[search_bench.Result] = []
TARGETS = {"GET /conversations?limit=100": 0.3, "GET /conversations/{id}": 0.4}

RANDOM_IDS_LUA = """
-- A random seeded conversation per request (ids written in by bench/conversations.py).
local ids = {%s}
local n = #ids
function init(args)
  math.randomseed(os.time() + tonumber(tostring({}):sub(8), 16) %% 100000)
end
function request()
  return wrk.format("GET", "/conversations/" .. ids[math.random(n)])
end
"""


@dataclass
class Comparison:
    backend: str
    endpoint: str
    target: float
    porch: list[Run] = field(default_factory=list)
    bare: list[Run] = field(default_factory=list)
    mismatch: str | None = None
    # One request at a time (no load): milliseconds per request.
    porch_alone: list[float] = field(default_factory=list)
    bare_alone: list[float] = field(default_factory=list)


def compare_bodies(porch: Server, bare: Server, token: str, conv_ids: list[str]) -> dict[str, str]:
    """Why Porch's and the bare app's bodies differ, per endpoint (empty when all agree)."""
    out: dict[str, str] = {}
    why = same_body(porch, bare, "/conversations?limit=100", token)
    if why:
        out["GET /conversations?limit=100"] = why
    for cid in random.Random(7).sample(conv_ids, min(20, len(conv_ids))):
        why = same_body(porch, bare, f"/conversations/{cid}", token)
        if why:
            out["GET /conversations/{id}"] = f"{cid}: {why}"
            break
    return out


def run_backend(
    backend: str, args: argparse.Namespace, wrk_bin: str, tmp: Path
) -> list[Comparison]:
    work = tmp / backend
    work.mkdir()
    servers: list[Server] = []
    with seeded_database(backend, args, work) as (db, done):
        try:
            porch = start_porch(db.url, work, args.porch_src)
            servers.append(porch)
            bare = start_bare(db.url, done.company_id, done.token, work)
            servers.append(bare)
            token = done.token
            script = work / "random_ids.lua"
            script.write_text(
                RANDOM_IDS_LUA % ", ".join(json.dumps(i) for i in done.conversation_ids)
            )
            plan = {
                "GET /conversations?limit=100": ("/conversations?limit=100", None),
                "GET /conversations/{id}": ("/conversations/" + done.conversation_ids[0], script),
            }
            mismatches = compare_bodies(porch, bare, token, done.conversation_ids)
            comparisons = []
            for label in plan:
                c = Comparison(backend, label, TARGETS[label], mismatch=mismatches.get(label))
                if c.mismatch:
                    print(f"[{backend}] WARNING: {label}: {c.mismatch}", flush=True)
                comparisons.append(c)
            paths = {
                "GET /conversations?limit=100": ["/conversations?limit=100"] * (args.alone + 1),
                "GET /conversations/{id}": [
                    "/conversations/" + cid for cid in done.conversation_ids[: args.alone + 1]
                ],
            }
            for c in comparisons:
                c.porch_alone = sequential_ms(porch, token, paths[c.endpoint])
                c.bare_alone = sequential_ms(bare, token, paths[c.endpoint])
                print(
                    f"[{backend}] {c.endpoint:<29} one at a time: Porch"
                    f" {median(c.porch_alone):8.1f} ms, bare {median(c.bare_alone):8.1f} ms"
                    f" (median of {len(c.porch_alone)})",
                    flush=True,
                )
            print(f"[{backend}] warm-up ({args.warmup} s per server and endpoint)", flush=True)
            for path, lua in plan.values():
                for server in (porch, bare):
                    wrk(wrk_bin, server, path, token, args.warmup, args, db.db_pid, lua)
                    settle(server)
            for r in range(args.rounds):
                for c, (path, lua) in zip(comparisons, plan.values(), strict=True):
                    for server, runs in ((porch, c.porch), (bare, c.bare)):
                        run = wrk(wrk_bin, server, path, token, args.duration, args, db.db_pid, lua)
                        runs.append(run)
                        waited = settle(server)
                        print(
                            f"[{backend}] round {r + 1}/{args.rounds} {c.endpoint:<29}"
                            f" {server.name:<5} {run.rps:8.0f} req/s  p50 {run.p50_ms:7.2f} ms"
                            f"  p99 {run.p99_ms:7.2f} ms  {run.cpu_us_per_req:6.0f} µs CPU/req"
                            f"  (db {run.db_cpu_us_per_req:5.0f})  others {run.other_cores:4.2f}"
                            f" cores  errors {run.errors}  (settled in {waited:.0f} s)",
                            flush=True,
                        )
            if args.profile:
                for c, (path, lua) in zip(comparisons, plan.values(), strict=True):
                    for server in (porch, bare):
                        name = f"{backend} {c.endpoint} {server.name}".lower()
                        out = args.profile / (re.sub(r"[^a-z0-9]+", "-", name).strip("-") + ".txt")
                        profile(wrk_bin, server, path, token, args, out, lua)
            for server in servers:
                if server.proc.poll() is not None:
                    raise RuntimeError(f"{server.name} died; see {server.log}")
            if args.search:
                bare.stop()  # search runs alone: nothing else on the machine's two cores
                SEARCHES.extend(search_bench.run_all(porch, done, backend, args))
            return comparisons
        finally:
            for server in servers:
                server.stop()


def table(comparisons: list[Comparison]) -> str:
    lines = [
        "| backend | endpoint | Porch req/s | bare req/s | ratio | target | Porch p50 / p99 ms"
        " | bare p50 / p99 ms | server CPU µs/req Porch / bare | DB CPU µs/req Porch / bare"
        " | other load (cores) | one at a time ms Porch / bare |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for c in comparisons:
        p_rps, b_rps = median([r.rps for r in c.porch]), median([r.rps for r in c.bare])
        ratio = p_rps / b_rps if b_rps else float("nan")
        errors = sum(r.errors for r in c.porch + c.bare)
        verdict = "met" if ratio >= c.target else "**missed**"
        if errors:
            verdict += f", {errors} errors"
        if c.mismatch:
            verdict += ", bodies differ"

        def spread(runs: list[Run]) -> str:
            return f"{min(r.rps for r in runs):,.0f}–{max(r.rps for r in runs):,.0f}"

        def m(runs: list[Run], attr: str) -> float:
            return median([getattr(r, attr) for r in runs])

        lines.append(
            f"| {c.backend} | {c.endpoint} | {p_rps:,.0f} ({spread(c.porch)})"
            f" | {b_rps:,.0f} ({spread(c.bare)}) | **{ratio:.2f}** | ≥ {c.target} {verdict}"
            f" | {m(c.porch, 'p50_ms'):.1f} / {m(c.porch, 'p99_ms'):.1f}"
            f" | {m(c.bare, 'p50_ms'):.1f} / {m(c.bare, 'p99_ms'):.1f}"
            f" | {m(c.porch, 'cpu_us_per_req'):,.0f} / {m(c.bare, 'cpu_us_per_req'):,.0f}"
            f" | {m(c.porch, 'db_cpu_us_per_req'):,.0f} / {m(c.bare, 'db_cpu_us_per_req'):,.0f}"
            f" | {median([r.other_cores for r in c.porch + c.bare]):.2f}"
            f" | {median(c.porch_alone):.1f} / {median(c.bare_alone):.1f} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    add_seed_args(p)
    p.add_argument("--duration", type=int, default=10, help="seconds per measured run")
    p.add_argument("--rounds", type=int, default=3, help="measured runs per server and endpoint")
    p.add_argument("--warmup", type=int, default=3, help="seconds of discarded warm-up")
    p.add_argument("--connections", type=int, default=64)
    p.add_argument("--alone", type=int, default=10, help="sequential requests timed first")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--json", type=Path, default=None, help="also write the raw runs here")
    p.add_argument("--profile", type=Path, default=None, metavar="DIR", help="py-spy both servers")
    p.add_argument("--profile-native", action="store_true", help="py-spy --native (C frames)")
    p.add_argument(
        "--porch-src",
        type=Path,
        default=None,
        metavar="DIR",
        help="serve the porch package in DIR (a patched copy of src/) instead of the installed one",
    )
    p.add_argument(
        "--search",
        action="store_true",
        help="then measure search latency on the same data (as bench/search.py does)",
    )
    p.add_argument("--requests", type=int, default=200, help="with --search: requests per kind")
    p.add_argument("--max-seconds", type=float, default=120, help="with --search: bound per kind")
    args = p.parse_args(argv)
    backends = backends_of(p, args)
    wrk_bin = ensure_wrk()
    facts = machine()
    print("machine: " + ", ".join(f"{k} {v}" for k, v in facts.items()), flush=True)
    comparisons: list[Comparison] = []
    with tempfile.TemporaryDirectory(prefix="porch-bench-conv-") as tmp:
        for backend in backends:
            comparisons += run_backend(backend, args, wrk_bin, Path(tmp))
    cmd = " ".join(["bench/conversations.py", *(argv if argv is not None else sys.argv[1:])])
    print(
        f"\n{cmd}: wrk -t{args.threads} -c{args.connections} -d{args.duration}s,"
        f" {args.rounds} rounds, medians (min–max req/s)\n"
    )
    print(table(comparisons))
    if args.search:
        print("\nsearch: sequential requests on one keep-alive connection\n")
        print(search_bench.table(SEARCHES) if SEARCHES else "nothing measured")
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "machine": facts,
                    "args": {k: str(v) for k, v in vars(args).items()},
                    "results": [asdict(c) for c in comparisons],
                },
                indent=2,
            )
        )


if __name__ == "__main__":
    main()
