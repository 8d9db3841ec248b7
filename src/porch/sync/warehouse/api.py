"""The Python API: ``await sync_warehouse(SyncConfig(base_url=…, token=…))``, or
``run_sync(config)`` outside an event loop (what ``porch sync`` calls)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from porch.client import AsyncClient
from porch.sync.warehouse.config import SyncConfig
from porch.sync.warehouse.destinations import Destination, SqlDestination
from porch.sync.warehouse.engine import Summary, WarehouseSync


def open_destination(config: SyncConfig) -> Destination:
    """DuckDB for ``duckdb:///file`` or a ``.duckdb`` path, PostgreSQL for ``postgresql://``,
    else a dlt destination name (``bigquery``, ``snowflake``, ``parquet``…) configured the dlt
    way (``.dlt/secrets.toml`` or ``DESTINATION__…`` environment variables)."""
    url = config.destination
    if url.startswith(("duckdb:///", "postgresql://", "postgres://")) or url.endswith(".duckdb"):
        return SqlDestination(url, dataset=config.dataset)
    from porch.sync.warehouse.dlt_dest import DltDestination

    return DltDestination(url, dataset=config.dataset, pipelines_dir=config.pipelines_dir)


async def sync_warehouse(
    config: SyncConfig,
    *,
    full_refresh: list[str] | None = None,
    progress: Callable[[Summary], None] | None = None,
    log: Callable[[str], None] | None = None,
) -> Summary:
    """One run of the sync (see ``porch.sync.warehouse.engine``); ``full_refresh``: None for
    an ordinary run, [] to re-sync everything, or the tables to re-sync."""
    dest = await asyncio.to_thread(open_destination, config)
    try:
        async with AsyncClient(
            config.base_url, config.token, connections=max(1, config.concurrency)
        ) as client:
            run = WarehouseSync(
                client, dest, config, full_refresh=full_refresh, progress=progress, log=log
            )
            return await run.run()
    finally:
        dest.close()


def run_sync(
    config: SyncConfig,
    *,
    full_refresh: list[str] | None = None,
    progress: Callable[[Summary], None] | None = None,
    log: Callable[[str], None] | None = None,
) -> Summary:
    """``sync_warehouse`` run to its end in an event loop of its own: uvloop's where it is
    installed (Porch's server dependencies bring it on Linux and macOS). A sync is bound by
    its own CPU per request, and uvloop's loop and sockets take less of it than asyncio's."""
    factory: Callable[[], asyncio.AbstractEventLoop] | None = None
    try:
        import uvloop

        factory = uvloop.new_event_loop
    except ImportError:  # Windows: asyncio's own loop
        pass
    kwargs: dict[str, Any] = {"full_refresh": full_refresh, "progress": progress, "log": log}
    with asyncio.Runner(loop_factory=factory) as runner:
        return runner.run(sync_warehouse(config, **kwargs))
