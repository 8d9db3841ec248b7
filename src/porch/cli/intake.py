"""``porch intake``: what the intake holds, and writing again what could not be written."""

from __future__ import annotations

import argparse
import asyncio
from datetime import UTC, datetime

from porch.cli.common import add_data_dir, open_db, pick_company, settings_of
from porch.domain.intake import do_retry_intake
from porch.store import intake as store


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("intake", help="accepted messages not yet written into conversations")
    isub = p.add_subparsers(dest="intake_cmd", required=True)
    s = isub.add_parser("status", help="how many accepted messages wait, and how many failed")
    r = isub.add_parser("retry", help="write the failed ones again (after fixing the cause)")
    for q in (s, r):
        add_data_dir(q)
        q.add_argument("--company", default=None, help="cmp_… or the company's name")
    s.set_defaults(func=status)
    r.set_defaults(func=retry)


# Failed rows listed by ``status``; the count covers them all.
SHOWN = 20


def status(args: argparse.Namespace) -> None:
    async def go() -> tuple[int, int, list[store.IntakeRow]]:
        db = await open_db(settings_of(args))
        try:
            company = await pick_company(db, args.company)
            pending, failed = await store.counts(db, company_id=company)
            return pending, failed, await store.failed(db, company_id=company, limit=SHOWN)
        finally:
            await db.close()

    pending, failed, rows = asyncio.run(go())
    print(f"{pending} waiting to be written, {failed} failed{':' if rows else '.'}")
    for row in rows:
        received = datetime.fromtimestamp(row.received_at / 1000, UTC).isoformat(timespec="seconds")
        print(f"  {row.uid}  received {received}  {row.error}")


def retry(args: argparse.Namespace) -> None:
    async def go() -> int:
        db = await open_db(settings_of(args))
        try:
            company = await pick_company(db, args.company)
            return await do_retry_intake(db, company_id=company)
        finally:
            await db.close()

    count = asyncio.run(go())
    print(f"{count} failed messages will be written again by the next running Porch.")
