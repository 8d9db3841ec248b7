"""``porch worker``: every background worker of ``porch serve`` without the HTTP server.

A deployment can run API processes (``porch serve --no-workers``) and worker processes
separately against one database; ``porch serve`` alone still runs both. Intake, reminders,
outbound delivery, email, IMAP, the event-log consumers and webhooks all find their work in the
database and claim it, so any number of worker processes may run, and a killed one loses
nothing (its claims run out and another process, or its restart, takes them over).
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import logging
import signal

from porch.app import Porch
from porch.cli.common import add_data_dir, open_db, settings_of


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("worker", help="run the background workers without the HTTP server")
    add_data_dir(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> None:
    # Inbound SMTP is a server of its own (``porch smtp``), not a worker.
    settings = dataclasses.replace(settings_of(args), smtp_port=None, run_workers=True)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")

    async def go() -> None:
        await (await open_db(settings)).close()  # migrate first
        app = Porch(settings)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await app.startup()
        print(f"Porch workers running (data in {settings.data_dir})", flush=True)
        try:
            await stop.wait()
        finally:
            await app.shutdown()

    asyncio.run(go())
