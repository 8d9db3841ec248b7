"""Warehouse sync: Porch's (or Front's) data into DuckDB, PostgreSQL or any dlt destination,
as tables shaped like Fivetran's Front connector (see docs/warehouse.md)."""

from __future__ import annotations

from porch.sync.warehouse.api import open_destination, run_sync, sync_warehouse
from porch.sync.warehouse.config import SyncConfig
from porch.sync.warehouse.engine import Summary, WarehouseSync

__all__ = [
    "Summary",
    "SyncConfig",
    "WarehouseSync",
    "open_destination",
    "run_sync",
    "sync_warehouse",
]
