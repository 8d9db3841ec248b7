"""The query planner's statistics.

PostgreSQL keeps its own (autovacuum runs ANALYZE). SQLite has none until ANALYZE runs, and
without them it may walk a company's every message through an index that starts with
company_id to find a handful of rows; so Porch runs ANALYZE on SQLite at start and then every
few minutes, sampling at most ``ROWS`` rows per index so that it stays quick on any size of
database.

Statistics of small tables are dropped. Taken on a fresh database, they say "one row" and stay
until the next refresh while the table grows: the planner then preferred scanning the whole
event log (through a covering index) to a primary-key range, 5 ms a poll at 10,000 events.
Without statistics SQLite assumes a large table and uses its indexes, which for a small table
costs nothing either way.
"""

from __future__ import annotations

import sqlalchemy as sa

from porch.store.db import Connection, Query

ROWS = 1000
_LIMIT = Query(sa.text(f"PRAGMA analysis_limit={ROWS}"))
SMALL = 1000
_ANALYZE = Query(sa.text("ANALYZE"))
# sqlite_stat1.stat starts with the table's row count; CAST reads that leading number.
_DROP_SMALL = Query(
    sa.text("DELETE FROM sqlite_stat1 WHERE CAST(stat AS INTEGER) < :small").bindparams(small=SMALL)
)
# Have the planner load the statistics again after they were edited.
_RELOAD = Query(sa.text("ANALYZE sqlite_schema"))


async def refresh(tx: Connection) -> None:
    """Refresh the planner's statistics now (after a bulk load, or on SQLite's schedule)."""
    if tx.dialect == "sqlite":
        await tx.execute(_LIMIT)
    await tx.execute(_ANALYZE)
    if tx.dialect == "sqlite":
        await tx.execute(_DROP_SMALL)
        await tx.execute(_RELOAD)
