"""The Python API: ``await sync_warehouse(SyncConfig(base_url=…, token=…))``."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

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
