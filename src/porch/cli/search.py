"""``porch search reindex``: rebuild the full-text index of conversations from their rows."""

from __future__ import annotations

import argparse
import asyncio

from porch import ids
from porch.cli.common import add_data_dir, open_db, pick_company, settings_of
from porch.events.search_index import rebuild


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("search", help="manage the conversation search index")
    ssub = p.add_subparsers(dest="search_cmd", required=True)
    r = ssub.add_parser("reindex", help="rebuild the index (after a bulk load, or to repair it)")
    add_data_dir(r)
    r.add_argument("--company", default=None, help="only this company (cmp_… or its name)")
    r.set_defaults(func=reindex)


def reindex(args: argparse.Namespace) -> None:
    async def go() -> tuple[int, int | None]:
        db = await open_db(settings_of(args))
        try:
            company = None if args.company is None else await pick_company(db, args.company)
            return await rebuild(db, company_id=company), company
        finally:
            await db.close()

    count, company = asyncio.run(go())
    where = f" of {ids.encode(ids.COMPANY, company)}" if company is not None else ""
    print(f"Indexed {count} conversations{where}.")
