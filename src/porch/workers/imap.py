"""The IMAP loop: every channel with an ``imap`` configuration has its mailboxes imported.

Every API process runs it. Every ``RESCAN_SECONDS`` (or ``poll_seconds`` if shorter) it reads
which channels import a mailbox and how, starts an importer (``channels/email/imap.py``) for
each new one, and restarts or stops the importers whose configuration changed or went.

One process imports a channel at a time: an importer runs only while its process holds the
channel's lease (a PostgreSQL advisory lock on a connection of its own, released when that
connection or the process ends, so another process takes the channel over at its next rescan).
Should two importers overlap anyway, the position's compare-and-set lets only one of them queue
each message (``store/imap.py``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from porch.channels.email.imap import run_channel
from porch.domain.imap import ImapConfig
from porch.storage import BlobStore
from porch.store import imap as store
from porch.store.db import Database
from porch.store.imap import Leases

logger = logging.getLogger("porch.imap")

RESCAN_SECONDS = 2.0


@dataclass
class _Importer:
    settings: dict[str, Any]
    task: asyncio.Task[None]


class _Imports:
    """The importers this process runs and the leases it holds."""

    def __init__(
        self,
        db: Database,
        blobs: BlobStore,
        database_url: str,
        poll: float,
        wake: Callable[[], None],
    ) -> None:
        self.db = db
        self.wake = wake
        self.blobs = blobs
        self.url = database_url
        self.poll = poll
        self.leases: Leases | None = None
        self.held: set[int] = set()
        self.running: dict[int, _Importer] = {}
        # Configurations that cannot be read, as last seen (said once, not every rescan).
        self.unusable: dict[int, dict[str, Any]] = {}

    async def rescan(self) -> None:
        if self.leases is None:
            self.leases = await store.open_leases(self.url)
        elif not await self.leases.alive():
            # The locks went with the connection: another process may be importing already.
            logger.warning("IMAP: the lease connection was lost; stopping this process's imports")
            await self.stop_all()
            self.leases = await store.open_leases(self.url)
        leases = self.leases
        wanted = {c.channel_id: c for c in await store.configured(self.db)}
        for channel_id, importer in list(self.running.items()):
            found = wanted.get(channel_id)
            if found is None or found.imap != importer.settings or importer.task.done():
                await _stop(importer)
                del self.running[channel_id]
        for channel_id in list(self.held - wanted.keys()):
            await leases.release(channel_id)
            self.held.discard(channel_id)
        for channel_id, found in wanted.items():
            if channel_id in self.running:
                continue
            if channel_id not in self.held:
                if not await leases.take(channel_id):
                    continue
                self.held.add(channel_id)
            try:
                config = ImapConfig.from_settings(found.imap)
            except (KeyError, TypeError, ValueError) as exc:
                if self.unusable.get(channel_id) != found.imap:
                    logger.error("IMAP channel %s: unusable configuration (%r)", channel_id, exc)
                    self.unusable[channel_id] = found.imap
                continue
            self.unusable.pop(channel_id, None)
            task = asyncio.create_task(
                run_channel(
                    self.db,
                    self.blobs,
                    company_id=found.company_id,
                    channel_id=channel_id,
                    config=config,
                    poll_seconds=self.poll,
                    wake=self.wake,
                ),
                name=f"imap-channel-{channel_id}",
            )
            self.running[channel_id] = _Importer(found.imap, task)
            logger.info("IMAP channel %s: importing %s", channel_id, ", ".join(config.sources()))

    async def stop_all(self) -> None:
        for importer in self.running.values():
            await _stop(importer)
        self.running.clear()
        self.held.clear()
        if self.leases is not None:
            leases, self.leases = self.leases, None
            with contextlib.suppress(Exception):
                await leases.close()


async def _stop(importer: _Importer) -> None:
    importer.task.cancel()
    with contextlib.suppress(asyncio.CancelledError, Exception):
        await importer.task


async def run_imap(
    db: Database,
    stop: asyncio.Event,
    *,
    blobs: BlobStore,
    database_url: str,
    poll_seconds: float,
    wake: Callable[[], None] = lambda: None,
    rescan_seconds: float = RESCAN_SECONDS,
) -> None:
    """Keep the configured IMAP mailboxes imported until ``stop`` is set (or cancelled).
    ``poll_seconds``: how often a mailbox is read on servers without IDLE; ``wake``: tells
    this process's intake worker that messages were queued."""
    imports = _Imports(db, blobs, database_url, poll_seconds, wake)
    interval = min(poll_seconds, rescan_seconds)
    try:
        while not stop.is_set():
            try:
                await imports.rescan()
            except Exception:
                logger.exception("IMAP: reading the configured channels failed; trying again")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), interval)
    finally:
        await imports.stop_all()
