"""``porch serve``: migrate, create a demo company on a brand-new data dir, serve the API."""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import logging

import uvicorn

from porch.app import Porch
from porch.cli.common import add_data_dir, all_companies, open_db, settings_of
from porch.cli.init import create, summary
from porch.config import Settings


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("serve", help="serve the API (and run migrations first)")
    add_data_dir(p)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8080)
    p.add_argument(
        "--smtp-port",
        type=int,
        default=None,
        help="inbound SMTP port (default $PORCH_SMTP_PORT or 2525; 0: no SMTP server)",
    )
    p.add_argument("--smtp-host", default=None, help="inbound SMTP address (default 127.0.0.1)")
    p.add_argument(
        "--no-workers",
        action="store_true",
        help="serve the API only; run the background workers with `porch worker`",
    )
    p.set_defaults(func=run)


def with_smtp_args(settings: Settings, args: argparse.Namespace) -> Settings:
    """``settings`` with the SMTP address the command line gives, if it gives one."""
    if args.smtp_port is not None:
        settings = dataclasses.replace(settings, smtp_port=args.smtp_port or None)
    if args.smtp_host is not None:
        settings = dataclasses.replace(settings, smtp_host=args.smtp_host)
    return settings


def run(args: argparse.Namespace) -> None:
    settings = with_smtp_args(settings_of(args), args)
    if args.no_workers:
        settings = dataclasses.replace(settings, run_workers=False)

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
    if settings.smtp_port is not None:
        print(f"Inbound mail: smtp://{settings.smtp_host}:{settings.smtp_port}", flush=True)
    if demo is not None:
        print(f"Created the demo company {demo['company_id']}; its admin API token:", flush=True)
        print(f"  {demo['token']}", flush=True)
        print(f"Try: curl -H 'Authorization: Bearer {demo['token']}' {url}/me", flush=True)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    # aiosmtpd logs every SMTP command at INFO: only its warnings are worth a line.
    logging.getLogger("mail.log").setLevel(logging.WARNING)
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
