"""Where the rows go: a small interface and its implementations.

``SqlDestination`` writes DuckDB (the default, an embedded file) and PostgreSQL directly: each
batch (rows of many tables plus the sync's state) is one transaction, so the cursor is saved
exactly when the rows it covers are, and an interrupted run resumes from the last commit.
Rows are merged on their primary keys (delete the staged keys, insert the stage), a child
table's rows are replaced per refetched parent, history tables only gain rows. During a first
load, rows whose keys (and parents) the destination never wrote are inserted without the merge's
join against the whole table (``loaded.py``), so a batch costs the same at any table size.

``DltDestination`` (``dlt_dest.py``) hands the same batches to dlt for the warehouses teams use
(BigQuery, Snowflake, Redshift, Databricks, Parquet files…): a destination name and dlt's own
credentials configuration, no code.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol

from porch.sync.warehouse.loaded import Known
from porch.sync.warehouse.schema import BOOL, DOUBLE, INT, JSON, STRING, TIMESTAMP, Table

Row = dict[str, Any]
STATE_TABLE = "_porch_sync_state"


@dataclass
class Counts:
    inserted: int = 0
    updated: int = 0
    deleted: int = 0

    def add(self, other: Counts) -> None:
        self.inserted += other.inserted
        self.updated += other.updated
        self.deleted += other.deleted


@dataclass
class Batch:
    """Rows to write together, and for child tables the parents whose sets they replace."""

    rows: dict[str, list[Row]] = field(default_factory=dict)
    parents: dict[str, set[str]] = field(default_factory=dict)
    # Objects gone from the source, by table: only their ``_deleted`` flag is set.
    gone: dict[str, set[str]] = field(default_factory=dict)
    # Every row's ``_synced_at`` (set when the batch is committed); a row's ``_deleted`` is
    # false unless the row says otherwise.
    synced_at: dt.datetime | None = None
    # Part of a first load: the destination may insert the rows it knows it never wrote
    # without merging them (``loaded.py``).
    loading: bool = False

    def add(self, table: str, rows: list[Row]) -> None:
        self.rows.setdefault(table, []).extend(rows)

    def merge(self, other: Batch) -> None:
        """``other``'s rows, replaced parents and gone objects added to this batch."""
        for name, rows in other.rows.items():
            self.add(name, rows)
        for name, parents in other.parents.items():
            self.parents.setdefault(name, set()).update(parents)
        for name, ids in other.gone.items():
            self.gone.setdefault(name, set()).update(ids)

    def column(self, rows: list[Row], name: str, kind: str) -> list[Any]:
        """One column of ``rows`` as the destination stores it (``cell``), the sync's own
        columns filled in."""
        if name == "_synced_at":
            return [self.synced_at] * len(rows)
        if name == "_deleted":
            return [bool(r.get("_deleted")) for r in rows]
        if kind == STRING:
            return [v if v is None or type(v) is str else cell(kind, v) for v in _get(rows, name)]
        if kind == TIMESTAMP:
            return list(_get(rows, name))
        return [cell(kind, v) for v in _get(rows, name)]

    def replace(self, table: str, parent: str) -> None:
        self.parents.setdefault(table, set()).add(parent)

    def __len__(self) -> int:
        return sum(len(v) for v in self.rows.values())


def _get(rows: list[Row], name: str) -> Iterator[Any]:
    return (r.get(name) for r in rows)


class Destination(Protocol):
    def prepare(self, tables: list[Table]) -> None:
        """Create the tables, or add the columns they lack (schema evolution)."""

    def read_state(self) -> dict[str, Any] | None:
        """The state the last commit saved, None before the first."""

    def commit(
        self, tables: dict[str, Table], batch: Batch, state: dict[str, Any]
    ) -> dict[str, Counts]:
        """Write ``batch`` and ``state`` all or nothing; what changed per table."""

    def truncate(self, tables: list[str]) -> None:
        """Empty these tables (a full refresh of them)."""

    def close(self) -> None: ...


_SQL = {
    "duckdb": {
        STRING: "VARCHAR",
        TIMESTAMP: "TIMESTAMPTZ",
        BOOL: "BOOLEAN",
        INT: "BIGINT",
        DOUBLE: "DOUBLE",
        JSON: "JSON",
    },
    "postgres": {
        STRING: "TEXT",
        TIMESTAMP: "TIMESTAMPTZ",
        BOOL: "BOOLEAN",
        INT: "BIGINT",
        DOUBLE: "DOUBLE PRECISION",
        JSON: "JSONB",
    },
}


def q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def cell(kind: str, value: Any) -> Any:
    """A value as the column type holds it (JSON as text; numbers from strings)."""
    if value is None:
        return None
    if kind == JSON:
        return json.dumps(value, sort_keys=True)
    if kind == DOUBLE:
        try:
            return float(value)
        except (TypeError, ValueError):
            return None
    if kind == INT:
        try:
            return int(value)
        except (TypeError, ValueError):
            return None
    if kind == BOOL:
        return bool(value)
    if kind == STRING and not isinstance(value, str):
        return json.dumps(value) if isinstance(value, dict | list) else str(value)
    return value


class SqlDestination:
    """DuckDB (``duckdb:///path/file.duckdb``) or PostgreSQL (``postgresql://…``), tables in
    schema ``dataset``."""

    def __init__(self, url: str, *, dataset: str = "front") -> None:
        self.dataset = dataset
        if url.startswith("duckdb:///") or url.endswith(".duckdb"):
            import duckdb

            self.dialect = "duckdb"
            self._db: Any = duckdb.connect(url.removeprefix("duckdb:///"))
            self._threads = 0
        elif url.startswith(("postgresql://", "postgres://")):
            import psycopg

            self.dialect = "postgres"
            self._db = psycopg.connect(url, autocommit=True)
        else:
            raise ValueError(f"not a DuckDB file or PostgreSQL URL: {url}")
        # Per table, the keys this run's first-load batches have written (``loaded.py``).
        self._known: dict[str, Known] = {}
        self._exec(f"CREATE SCHEMA IF NOT EXISTS {q(dataset)}")
        self._exec(
            f"CREATE TABLE IF NOT EXISTS {self._t(STATE_TABLE)} (id INTEGER PRIMARY KEY,"
            " state TEXT NOT NULL)"
        )

    def _t(self, name: str) -> str:
        return f"{q(self.dataset)}.{q(name)}"

    def _exec(self, sql: str, params: tuple[Any, ...] | None = None) -> Any:
        cur = self._db.execute(sql, params) if params else self._db.execute(sql)
        if self.dialect != "duckdb":
            return cur
        # DuckDB wants every result consumed before the connection does anything else.
        try:
            rows = cur.fetchall()
        except Exception:
            rows = []
        return _Rows(rows)

    def _columns(self, table: str) -> set[str]:
        rows = self._exec(
            "SELECT column_name FROM information_schema.columns"
            " WHERE table_schema = %s AND table_name = %s".replace(
                "%s", "?" if self.dialect == "duckdb" else "%s"
            ),
            (self.dataset, table),
        ).fetchall()
        return {str(r[0]) for r in rows}

    def prepare(self, tables: list[Table]) -> None:
        types = _SQL[self.dialect]
        for table in tables:
            have = self._columns(table.name)
            cols = table.all_columns
            if not have:
                body = ", ".join(f"{q(c)} {types[k]}" for c, k in cols.items())
                self._exec(f"CREATE TABLE {self._t(table.name)} ({body})")
                continue
            for c, k in cols.items():
                if c not in have:
                    self._exec(f"ALTER TABLE {self._t(table.name)} ADD COLUMN {q(c)} {types[k]}")

    def read_state(self) -> dict[str, Any] | None:
        row = self._exec(f"SELECT state FROM {self._t(STATE_TABLE)} WHERE id = 1").fetchone()
        return json.loads(row[0]) if row else None

    def keys(self, table: str) -> set[str] | None:
        """The ids of ``table``'s rows not flagged deleted (None: no such table)."""
        if not self._columns(table):
            return None
        rows = self._exec(
            f"SELECT id FROM {self._t(table)} WHERE NOT coalesce(_deleted, false)"
        ).fetchall()
        return {str(r[0]) for r in rows}

    def _flag(self, table: str, ids: list[str]) -> int:
        pstage = f"_gone_{table}"
        self._stage_keys(pstage, ids)
        changed = self._scalar_of(
            f"UPDATE {self._t(table)} SET _deleted = true WHERE id IN (SELECT p FROM {q(pstage)})"
            " AND NOT coalesce(_deleted, false)"
        )
        self._drop(pstage)
        return changed

    def truncate(self, tables: list[str]) -> None:
        for name in tables:
            self._known.pop(name, None)
            if self._columns(name):
                self._exec(f"DELETE FROM {self._t(name)}")

    def close(self) -> None:
        self._db.close()

    # --- one batch, one transaction ------------------------------------------------------------

    def commit(
        self, tables: dict[str, Table], batch: Batch, state: dict[str, Any]
    ) -> dict[str, Counts]:
        counts: dict[str, Counts] = {}
        # Rows inserted as new, remembered once the transaction is committed.
        written: list[tuple[Known, list[Row]]] = []
        if self.dialect == "duckdb":
            # A first load's batches are small and written beside the reading (and, here, the
            # server): one thread leaves the other cores to them. A later run's merges join
            # whole tables (read cold from the file each run) and come mostly after its reading:
            # every core (0.45 s instead of 0.87 s for 8,000 messages merged into a million).
            threads = 1 if batch.loading else max(1, os.cpu_count() or 1)
            if threads != self._threads:
                self._exec(f"SET threads = {threads}")
                self._threads = threads
        self._begin()
        try:
            for name in sorted(set(batch.rows) | set(batch.parents)):
                table = tables.get(name)
                if table is None:  # blocked
                    continue
                if batch.loading:
                    counts[name] = self._load(table, batch, written)
                else:
                    counts[name] = self._write(table, batch, self._rows(table, batch))
            for name, ids in sorted(batch.gone.items()):
                if name in tables and ids:
                    counts.setdefault(name, Counts()).deleted += self._flag(name, sorted(ids))
            text = json.dumps(state, sort_keys=True)
            self._exec(f"DELETE FROM {self._t(STATE_TABLE)}")
            self._exec(
                f"INSERT INTO {self._t(STATE_TABLE)} (id, state) VALUES (1, {self._p()})", (text,)
            )
        except BaseException:
            self._rollback()
            raise
        self._commit()
        for known, rows in written:
            known.add(rows)
        return counts

    def _p(self) -> str:
        return "?" if self.dialect == "duckdb" else "%s"

    def _begin(self) -> None:
        self._exec("BEGIN")

    def _commit(self) -> None:
        self._exec("COMMIT")

    def _rollback(self) -> None:
        # The connection may be gone: the original error is what matters.
        with contextlib.suppress(Exception):
            self._exec("ROLLBACK")

    @staticmethod
    def _rows(table: Table, batch: Batch) -> list[Row]:
        """The batch's rows of ``table``, one per key (the last read wins): a key staged twice
        would be inserted twice."""
        unique: dict[tuple[Any, ...], Row] = {}
        for row in batch.rows.get(table.name, []):
            unique[tuple(row.get(k) for k in table.key)] = row
        return list(unique.values())

    def _load(self, table: Table, batch: Batch, written: list[tuple[Known, list[Row]]]) -> Counts:
        """A first load's write: rows never written inserted as they are, the rest merged."""
        known = self._known.get(table.name)
        if known is None:
            known = self._known[table.name] = Known(table)
            if self._scalar(f"SELECT count(*) FROM {self._t(table.name)}"):
                # A resumed load: what the table holds, read once.
                cols = [*table.key, *([table.parent] if table.parent else [])]
                found = self._exec(
                    f"SELECT {', '.join(q(c) for c in cols)} FROM {self._t(table.name)}"
                ).fetchall()
                known.load(found)
        new, old, parents = known.split(
            self._rows(table, batch), batch.parents.get(table.name, set())
        )
        counts = self._write(table, batch, old, parents) if old or parents else Counts()
        if new:
            stage = f"_new_{table.name}"
            self._stage(stage, table, new, batch)
            names = ", ".join(q(c) for c in table.all_columns)
            target = self._t(table.name)
            self._exec(f"INSERT INTO {target} ({names}) SELECT {names} FROM {q(stage)}")
            self._drop(stage)
            counts.inserted += len(new)
            written.append((known, new))
        return counts

    def _write(
        self, table: Table, batch: Batch, rows: list[Row], parents: set[str] | None = None
    ) -> Counts:
        """``rows`` (one per key) merged into ``table``; for a child table, the sets of
        ``parents`` (all the batch replaces when None) replaced by them."""
        if parents is None:
            parents = batch.parents.get(table.name)
        cols = table.all_columns
        key = table.key
        stage = f"_stage_{table.name}"
        self._stage(stage, table, rows, batch)
        target = self._t(table.name)
        on = " AND ".join(f"t.{q(k)} = s.{q(k)}" for k in key)
        names = ", ".join(q(c) for c in cols)
        n = len(rows)
        if table.history:
            found = self._scalar(f"SELECT count(*) FROM {q(stage)} s JOIN {target} t ON {on}")
            self._exec(
                f"INSERT INTO {target} ({names}) SELECT {names} FROM {q(stage)} s"
                f" WHERE NOT EXISTS (SELECT 1 FROM {target} t WHERE {on})"
            )
            self._drop(stage)
            return Counts(inserted=n - found)
        data = [c for c in cols if c != "_synced_at"]
        # One join says how many staged keys exist, how many of those differ, how many of
        # those the batch flags deleted.
        row = self._exec(
            f"SELECT count(*), count(*) FILTER (WHERE"
            f" ({', '.join('s.' + q(c) for c in data)}) IS DISTINCT FROM"
            f" ({', '.join('t.' + q(c) for c in data)})),"
            " count(*) FILTER (WHERE s._deleted AND NOT coalesce(t._deleted, false))"
            f" FROM {q(stage)} s JOIN {target} t ON {on}"
        ).fetchone()
        existing, changed, deleted = (int(v or 0) for v in row) if row else (0, 0, 0)
        if parents:
            pstage = f"_parents_{table.name}"
            self._stage_keys(pstage, sorted(parents))
            assert table.parent is not None
            removed = self._scalar_of(
                f"DELETE FROM {target} WHERE {q(table.parent)} IN (SELECT p FROM {q(pstage)})"
            )
            self._drop(pstage)
            gone = max(removed - existing, 0)
        else:
            if existing:  # a first load finds none: nothing to delete
                self._exec(f"DELETE FROM {target} t USING {q(stage)} s WHERE {on}")
            gone = 0
        self._exec(f"INSERT INTO {target} ({names}) SELECT {names} FROM {q(stage)}")
        self._drop(stage)
        return Counts(inserted=n - existing, updated=changed - deleted, deleted=deleted + gone)

    def _scalar(self, sql: str) -> int:
        row = self._exec(sql).fetchone()
        return int(row[0]) if row else 0

    def _scalar_of(self, sql: str) -> int:
        """The number of rows a DELETE or UPDATE changed."""
        cur = self._exec(sql)
        if self.dialect == "duckdb":
            row = cur.fetchone()
            return int(row[0]) if row else 0
        return int(cur.rowcount)

    def _drop(self, name: str) -> None:
        if self.dialect == "duckdb":
            self._db.unregister(name)
        else:
            self._exec(f"DROP TABLE IF EXISTS {q(name)}")

    def _stage(self, name: str, table: Table, rows: list[Row], batch: Batch) -> None:
        cols = table.all_columns
        if self.dialect == "duckdb":
            import pyarrow as pa

            arrays = {c: batch.column(rows, c, k) for c, k in cols.items()}
            schema = pa.schema([(c, _ARROW[k]()) for c, k in cols.items()])
            self._db.register(name, pa.Table.from_pydict(arrays, schema=schema))
            return
        types = _SQL["postgres"]
        body = ", ".join(f"{q(c)} {types[k]}" for c, k in cols.items())
        self._exec(f"CREATE TEMP TABLE {q(name)} ({body}) ON COMMIT DROP")
        names = ", ".join(q(c) for c in cols)
        columns = [batch.column(rows, c, k) for c, k in cols.items()]
        with self._db.cursor().copy(f"COPY {q(name)} ({names}) FROM STDIN") as copy:
            for values in zip(*columns, strict=True):
                copy.write_row(values)

    def _stage_keys(self, name: str, keys: list[str]) -> None:
        if self.dialect == "duckdb":
            import pyarrow as pa

            self._db.register(name, pa.table({"p": pa.array(keys, pa.string())}))
            return
        self._exec(f"CREATE TEMP TABLE {q(name)} (p TEXT) ON COMMIT DROP")
        with self._db.cursor().copy(f"COPY {q(name)} (p) FROM STDIN") as copy:
            for k in keys:
                copy.write_row([k])


class _Rows:
    """A consumed DuckDB result."""

    def __init__(self, rows: list[tuple[Any, ...]]) -> None:
        self.rows = rows

    def fetchone(self) -> tuple[Any, ...] | None:
        return self.rows[0] if self.rows else None

    def fetchall(self) -> list[tuple[Any, ...]]:
        return self.rows


def _arrow_types() -> dict[str, Any]:
    import pyarrow as pa

    return {
        STRING: pa.string,
        TIMESTAMP: lambda: pa.timestamp("us", tz="UTC"),
        BOOL: pa.bool_,
        INT: pa.int64,
        DOUBLE: pa.float64,
        JSON: pa.string,
    }


class _LazyArrow(dict[str, Any]):
    """The arrow types, imported on first use (``porch serve`` never needs pyarrow)."""

    def __missing__(self, key: str) -> Any:
        self.update(_arrow_types())
        return self[key]


_ARROW = _LazyArrow()
