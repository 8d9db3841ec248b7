"""The query planner's statistics.

PostgreSQL keeps its own (autovacuum runs ANALYZE). SQLite has none until ANALYZE runs, and
without them it may walk a company's every message through an index that starts with
company_id to find a handful of rows; so Porch runs ANALYZE on SQLite at start and then every
hour, sampling at most ``ROWS`` rows per index so that it stays quick on any size of database.
"""

from __future__ import annotations

import sqlalchemy as sa

from porch.store.db import Connection, Query

ROWS = 1000
_LIMIT = Query(sa.text(f"PRAGMA analysis_limit={ROWS}"))
_ANALYZE = Query(sa.text("ANALYZE"))


async def refresh(tx: Connection) -> None:
    """Refresh the planner's statistics now (after a bulk load, or on SQLite's schedule)."""
    if tx.dialect == "sqlite":
        await tx.execute(_LIMIT)
    await tx.execute(_ANALYZE)
