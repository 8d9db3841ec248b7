"""``porch serve``: migrate, create a demo company on a brand-new data dir, serve the API."""

from __future__ import annotations

import argparse
import asyncio
import logging

import uvicorn

from porch.app import Porch
from porch.cli.common import add_data_dir, all_companies, open_db, settings_of
from porch.cli.init import create, summary


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("serve", help="serve the API (and run migrations first)")
    add_data_dir(p)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8080)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> None:
    settings = settings_of(args)

    async def prepare() -> dict[str, str] | None:
        db = await open_db(settings)
        try:
            if await all_companies(db):
                return None
            return summary(await create(db, "Demo Company", "admin@demo.example"))
        finally:
            await db.close()

    demo = asyncio.run(prepare())
    url = f"http://{args.host}:{args.port}"
    print(f"Porch serves {url} (data in {settings.data_dir})", flush=True)
    if demo is not None:
        print(f"Created the demo company {demo['company_id']}; its admin API token:", flush=True)
        print(f"  {demo['token']}", flush=True)
        print(f"Try: curl -H 'Authorization: Bearer {demo['token']}' {url}/me", flush=True)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    uvicorn.run(
        Porch(settings),
        host=args.host,
        port=args.port,
        log_level="warning",
        access_log=False,
        loop="uvloop",
        http="httptools",
        lifespan="on",
    )
