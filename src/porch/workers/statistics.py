"""Keeping SQLite's planner statistics current (see ``porch.store.statistics``): at start, then
every ``interval`` seconds. PostgreSQL's autovacuum does this there, so the loop is SQLite's."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from porch.store import statistics
from porch.store.db import Database

logger = logging.getLogger("porch.statistics")


async def run_statistics(db: Database, stop: asyncio.Event, *, interval: float = 600.0) -> None:
    while not stop.is_set():
        try:
            async with db.transaction() as tx:
                await statistics.refresh(tx)
        except Exception:
            logger.exception("refreshing the planner's statistics failed; next time")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), interval)
