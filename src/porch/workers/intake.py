"""The intake loop: accepted messages are written into their conversations as they arrive.

Every API process runs it. A request that commits an intake row wakes the loop of its own
process at once; rows committed by other processes (or left by one that stopped) are found by
polling every ``interval`` seconds, and at start.

Answering comes first. While requests are being handled, the loop gives them the event loop for
a while after each batch, keeping ``share`` of its time for writing: a burst of messages is
acknowledged (durably) at the rate a request alone costs, and the backlog is written as the
burst eases. With no request in flight, batches follow one another directly.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

from porch.domain.intake import BATCH, do_process_intake
from porch.storage import BlobStore
from porch.store.db import Database

logger = logging.getLogger("porch.intake")

# The part of the event loop's time the intake keeps while requests are waiting.
SHARE = 1 / 2


async def run_intake(
    db: Database,
    stop: asyncio.Event,
    wake: asyncio.Event,
    *,
    interval: float,
    blobs: BlobStore,
    busy: Callable[[], bool] = lambda: False,
    share: float = SHARE,
) -> None:
    """Process the intake until ``stop`` is set; ``wake`` says new rows are committed, ``busy``
    whether requests are being handled right now."""
    loop = asyncio.get_running_loop()
    while not stop.is_set():
        # Cleared before reading, so a row committed during the batch wakes the next one.
        wake.clear()
        started = loop.time()
        try:
            taken = await do_process_intake(db, blobs=blobs, limit=BATCH)
        except Exception:
            logger.exception("intake batch failed; retrying")
            taken = 0
            await asyncio.sleep(interval)
        if taken and busy():
            await asyncio.sleep((loop.time() - started) * (1 - share) / share)
        if taken >= BATCH:
            await asyncio.sleep(0)
            continue
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(wake.wait(), interval)
