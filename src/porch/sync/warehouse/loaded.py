"""What a first load has written, so that a batch's new rows skip the merge.

Merging a batch into a table (``destinations.py``) joins its staged rows against the whole
table: on DuckDB (no index) and on PostgreSQL (the tables have none) each batch scans the
table, so a first load of a million messages costs more per batch the further it gets — past
about a million rows the writer, not the reading, bounds the sync. During a first load almost
every row is new, and the destination can know it exactly by remembering the keys it wrote:

- a table it finds empty starts with nothing known; one that is not (a resumed load) has its
  keys read once, in one scan;
- a row is new when neither its key nor (for a child table) its parent was ever written; new
  rows are inserted without any join, and only the others — a page read again on resume, a
  conversation listed twice because its activity moved it in the list — go through the merge;
- the keys of a committed batch are added once its transaction is committed (a rolled-back
  batch adds none).

The sets only grow: a key or parent known but deleted since is merely merged (a join for
nothing), never inserted twice. For a child table whose key holds the parent column
(``message_recipient``: message_id, handle, role) a parent never written means no row of it
exists, so the parents are all that is kept; ``message_attachment`` (keyed by its own id)
keeps both. The cost is memory: a million message ids held by two sets (messages,
recipients' parents) take about 150 MB (measured apart with tracemalloc).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from porch.sync.warehouse.schema import Table

Row = dict[str, Any]


def key_of(table: Table) -> Callable[[Row], Any]:
    """A row's key as the sets hold it (a bare value for a one-column key)."""
    cols = table.key
    if len(cols) == 1:
        col = cols[0]
        return lambda r: r.get(col)
    return lambda r: tuple(r.get(c) for c in cols)


def needs_keys(table: Table) -> bool:
    """Whether a table's keys are kept (not implied by its parents)."""
    return table.parent is None or table.parent not in table.key


@dataclass
class Known:
    """The keys and parents of one table written so far (see the module)."""

    table: Table
    keys: set[Any] = field(default_factory=set)
    parents: set[Any] = field(default_factory=set)

    def split(self, rows: list[Row], replaced: set[str]) -> tuple[list[Row], list[Row], set[str]]:
        """``rows`` as (new, to merge), and the ``replaced`` parents that may hold rows."""
        key, parent = key_of(self.table), self.table.parent
        keep_keys = needs_keys(self.table)
        new: list[Row] = []
        old: list[Row] = []
        for r in rows:
            seen = (parent is not None and r.get(parent) in self.parents) or (
                keep_keys and key(r) in self.keys
            )
            (old if seen else new).append(r)
        return new, old, {p for p in replaced if p in self.parents}

    def add(self, rows: Iterable[Row]) -> None:
        key, parent = key_of(self.table), self.table.parent
        if needs_keys(self.table):
            self.keys.update(key(r) for r in rows)
        if parent is not None:
            self.parents.update(r.get(parent) for r in rows)

    def load(self, found: Iterable[tuple[Any, ...]]) -> None:
        """The rows a table already holds (their key columns, then the parent column)."""
        n = len(self.table.key)
        keep_keys = needs_keys(self.table)
        for values in found:
            if keep_keys:
                self.keys.add(values[0] if n == 1 else tuple(values[:n]))
            if self.table.parent is not None:
                self.parents.add(values[n])
