"""Database access without an ORM session on the hot path.

Queries are SQLAlchemy Core statements compiled once per dialect (``Query``) and executed
directly on the driver: the stdlib ``sqlite3`` module for the embedded default, ``asyncpg`` for
PostgreSQL. perf-baseline.md measured an ORM session per request at 0.07 of a bare driver read;
this path keeps SQLAlchemy for what it is good at (one schema, portable SQL, Alembic) and pays
for compilation once per process instead of once per request.

A list-valued parameter is passed as a JSON array on SQLite and as an array on PostgreSQL; use
``in_list`` to test membership so the same statement works on both.
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Mapping, Sequence
from contextlib import asynccontextmanager
from typing import Any, Protocol

import orjson
import sqlalchemy as sa
from sqlalchemy.dialects import sqlite as sqlite_dialect
from sqlalchemy.dialects.postgresql import asyncpg as asyncpg_dialect
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ColumnElement

Row = Mapping[str, Any]


class IntegrityError(Exception):
    """A write broke a constraint (most often a unique one another writer won a race for).

    Actions check uniqueness before writing and raise Conflict; this is what is left when two
    writers pass that check at once. The API layer answers 409, like the check would have.
    """


_DIALECTS: dict[str, sa.Dialect] = {
    # Named parameters: the sqlite3 module then looks them up in the call's dict itself.
    "sqlite": sqlite_dialect.dialect(paramstyle="named"),
    "postgresql": asyncpg_dialect.dialect(),  # type: ignore[no-untyped-call]
}


class InList(ColumnElement[bool]):
    """``column`` is one of the values of the list parameter ``param``."""

    inherit_cache = True
    type = sa.Boolean()
    # A comparison already: without this SQLite gets ``(... IN ...) = 1``, which no index serves.
    _is_implicitly_boolean = True

    def __init__(self, column: ColumnElement[Any], param: str) -> None:
        self.column = column
        self.param: sa.BindParameter[Any] = sa.bindparam(param)


@compiles(InList, "sqlite")
def _in_list_sqlite(element: InList, compiler: SQLCompiler, **kw: Any) -> str:
    col = compiler.process(element.column, **kw)
    # Both parts are compiler output for our own column and bound parameter: no user text.
    return f"{col} IN (SELECT value FROM json_each({compiler.process(element.param, **kw)}))"  # noqa: S608


@compiles(InList, "postgresql")
def _in_list_pg(element: InList, compiler: SQLCompiler, **kw: Any) -> str:
    col = compiler.process(element.column, **kw)
    return f"{col} = ANY({compiler.process(element.param, **kw)})"


def in_list(column: ColumnElement[Any], param: str) -> InList:
    """A portable ``column IN (:param)`` where ``param`` is bound to a Python list."""
    return InList(column, param)


def of_company(column: ColumnElement[Any]) -> ColumnElement[bool]:
    """``column = :company_id``, for queries that name their rows by a more selective key (a
    list of message keys, a conversation): the ``+ 0`` keeps SQLite from choosing an index that
    starts with company_id, which it does when it has no statistics (a young database) and which
    reads every row of the company instead of the few asked for. PostgreSQL plans it the same."""
    return (column + sa.literal_column("0")) == sa.bindparam("company_id")


def insert_query(stmt: sa.Insert, key: ColumnElement[Any]) -> Query:
    """The query ``Connection.insert`` runs for ``stmt``: SQLite reports the new key as the
    cursor's lastrowid, and a RETURNING clause costs it about half as much again as the insert
    itself (measured: 60 against 90 µs for a message row); PostgreSQL returns ``key``."""
    return Query(stmt, postgresql=stmt.returning(key))


class Query:
    """A statement compiled lazily, once per dialect, into SQL and a parameter order."""

    __slots__ = ("_compiled", "custom_plan", "overrides", "stmt")

    def __init__(
        self, stmt: sa.ClauseElement, *, custom_plan: bool = False, **overrides: sa.ClauseElement
    ) -> None:
        """``overrides`` name a dialect-specific statement (``postgresql=...``) where needed.
        ``custom_plan``: PostgreSQL plans the statement for each call's parameters instead of
        settling on a generic plan after a few calls (see ``_PgConn.fetch_all``)."""
        self.stmt = stmt
        self.custom_plan = custom_plan
        self.overrides = overrides
        self._compiled: dict[str, tuple[str, tuple[str, ...], dict[str, Any]]] = {}

    def compiled(self, dialect: str) -> tuple[str, tuple[str, ...], dict[str, Any]]:
        found = self._compiled.get(dialect)
        if found is None:
            stmt = self.overrides.get(dialect, self.stmt)
            c = stmt.compile(dialect=_DIALECTS[dialect])
            assert isinstance(c, SQLCompiler)
            order = tuple(c.positiontup or ())
            # Literal values SQLAlchemy turned into parameters (OFFSET 0, constants in
            # expressions) keep their compiled value unless the caller names them.
            defaults = {k: v for k, v in c.params.items() if v is not None}
            found = (str(c), order, defaults)
            self._compiled[dialect] = found
        return found

    def sqlite_args(self, params: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        """SQL and named arguments for sqlite3, lists as JSON arrays (see ``in_list``).
        ``params`` is the caller's own keyword dict, so it is completed in place."""
        sql, _, defaults = self.compiled("sqlite")
        if defaults:
            params = {**defaults, **params}
        for name, value in params.items():
            if type(value) is list or type(value) is tuple:
                params[name] = orjson.dumps(value).decode()
        return sql, params


class Reader(Protocol):
    """What a read runs on: a database (committed data) or an open transaction."""

    dialect: str

    async def fetch_one(self, q: Query, **params: Any) -> Row | None: ...

    async def fetch_all(self, q: Query, **params: Any) -> list[Row]: ...


class Connection(Reader, Protocol):
    """An open transaction: reads see its own writes."""

    async def execute(self, q: Query, **params: Any) -> int: ...

    async def execute_many(self, q: Query, rows: Sequence[dict[str, Any]]) -> None:
        """Run ``q`` once per parameter set of ``rows``, in one call to the driver (a batch
        of outbox rows costs one round of Python instead of one per row)."""
        ...

    async def insert(self, q: Query, **params: Any) -> int:
        """Run an INSERT of one row and return the row's key. ``q`` is the plain INSERT, with
        ``RETURNING id`` for PostgreSQL only (see ``insert_query``)."""
        ...

    def savepoint(self) -> Any:  # an async context manager
        """A nested part of the transaction: if its block raises, what it wrote is undone and
        the rest of the transaction goes on (the exception propagates)."""
        ...


class Database(Reader, Protocol):
    """A pool of connections to one database; reads outside a transaction see committed data."""

    def transaction(self, *, durable: bool = True) -> Any:
        """An async context manager yielding a Connection; its block's writes commit together.
        When it returns they are on disk, unless ``durable`` is False: then a crash may still
        lose them (for work that is safely done again, such as a delivery worker's claim,
        whose commit need not wait for the disk)."""
        ...

    async def close(self) -> None: ...


def _args(q: Query, dialect: str, params: Mapping[str, Any]) -> tuple[str, list[Any]]:
    """SQL and positional arguments (PostgreSQL's $1, $2 ...)."""
    sql, order, defaults = q.compiled(dialect)
    return sql, [params[name] if name in params else defaults[name] for name in order]


# --- SQLite -------------------------------------------------------------------------------


class _SqliteConn:
    """Runs statements on one sqlite3 connection, on the event loop (reads take microseconds)."""

    dialect = "sqlite"

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn
        self._savepoints = 0

    async def fetch_one(self, q: Query, **params: Any) -> Row | None:
        sql, args = q.sqlite_args(params)
        try:
            row: Row | None = self._conn.execute(sql, args).fetchone()
        except sqlite3.IntegrityError as exc:
            raise IntegrityError(str(exc)) from exc
        return row

    async def fetch_all(self, q: Query, **params: Any) -> list[Row]:
        sql, args = q.sqlite_args(params)
        return self._conn.execute(sql, args).fetchall()

    async def execute(self, q: Query, **params: Any) -> int:
        sql, args = q.sqlite_args(params)
        try:
            return self._conn.execute(sql, args).rowcount
        except sqlite3.IntegrityError as exc:
            raise IntegrityError(str(exc)) from exc

    async def execute_many(self, q: Query, rows: Sequence[dict[str, Any]]) -> None:
        if not rows:
            return
        sql = q.sqlite_args(dict(rows[0]))[0]
        try:
            self._conn.executemany(sql, [q.sqlite_args(dict(r))[1] for r in rows])
        except sqlite3.IntegrityError as exc:
            raise IntegrityError(str(exc)) from exc

    async def insert(self, q: Query, **params: Any) -> int:
        sql, args = q.sqlite_args(params)
        try:
            key = self._conn.execute(sql, args).lastrowid
        except sqlite3.IntegrityError as exc:
            raise IntegrityError(str(exc)) from exc
        assert key is not None
        return key

    @asynccontextmanager
    async def savepoint(self) -> AsyncIterator[None]:
        self._savepoints += 1
        name = f"porch_sp{self._savepoints}"
        raw = self._conn
        raw.execute(f"SAVEPOINT {name}")
        try:
            yield
        except BaseException:
            if raw.in_transaction:
                raw.execute(f"ROLLBACK TO {name}")
                raw.execute(f"RELEASE {name}")
            raise
        else:
            raw.execute(f"RELEASE {name}")
        finally:
            self._savepoints -= 1


def _sqlite_connect(path: str, synchronous: str) -> sqlite3.Connection:
    # Every statement Porch runs is one of a few hundred compiled ones: keep them all prepared
    # (the module's default keeps 128 per connection, and re-preparing costs more than running).
    conn = sqlite3.connect(
        path, isolation_level=None, check_same_thread=False, cached_statements=2048
    )
    conn.row_factory = sqlite3.Row
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute(f"PRAGMA synchronous={synchronous}")
    conn.execute("PRAGMA foreign_keys=ON")
    conn.execute("PRAGMA busy_timeout=10000")
    # SQLite's default page cache is 2 MB per connection; with more, hot index pages stay in
    # the process instead of being read again from the OS for each statement, and mapping the
    # file spares the read system calls for the rest. Both are per connection, not per file.
    conn.execute("PRAGMA cache_size=-65536")
    conn.execute("PRAGMA mmap_size=268435456")
    # Savepoints (one per transaction in a group commit) keep the pages they change in a
    # sub-journal, and SQLite writes it to a temporary file by default: in memory, a message
    # written in the intake's batch costs a quarter less CPU (960 against 720 µs, measured).
    conn.execute("PRAGMA temp_store=MEMORY")
    return conn


class SqliteDatabase(_SqliteConn):
    """The embedded default: one read connection, one write connection, writes serialised.

    SQLite allows one writer at a time; queueing writers on an asyncio lock in-process (and on
    ``BEGIN IMMEDIATE`` across processes) keeps them from failing with "database is locked".

    Commits are grouped: the writers queued while one writes share its ``COMMIT`` (each runs in
    its own savepoint, so one that fails rolls back alone), and one fsync for a burst of writers
    is what lets a single SQLite file accept over a thousand messages a second. With
    ``synchronous=FULL`` (the default) the fsync is of the write-ahead log, done here after the
    COMMIT has appended the group's frames to it, with the lock already released: the next
    group writes while the disk syncs the last one (SQLite's own FULL would sync inside COMMIT,
    holding the only writer). What is synced is the same: a COMMIT in WAL mode is durable once
    its frames are on disk; checkpoints still sync as SQLite does at NORMAL. A transaction's
    block returns only after its group is on disk, so whoever acknowledges a write still does
    so after it is durable.
    """

    def __init__(self, path: str, synchronous: str = "FULL") -> None:
        super().__init__(_sqlite_connect(path, synchronous))
        # FULL durability is kept by syncing the write-ahead log ourselves after each COMMIT
        # (see _commit); SQLite itself then need not, and the writer runs at NORMAL.
        self._sync_wal = synchronous == "FULL"
        writer_sync = "NORMAL" if self._sync_wal else synchronous
        self._writer = _SqliteConn(_sqlite_connect(path, writer_sync))
        self._wal_path = path + "-wal"
        self._wal_fd: int | None = None
        self._lock = asyncio.Lock()
        # The open group: its commit's outcome, and whether its commit is queued yet.
        self._group: asyncio.Future[None] | None = None
        self._commit_queued = False
        # Commits still running (one may be syncing while the next commits).
        self._committers: set[asyncio.Task[None]] = set()

    @asynccontextmanager
    async def transaction(self, *, durable: bool = True) -> AsyncIterator[Connection]:
        async with self._lock:
            raw = self._writer._conn
            if self._group is None:
                raw.execute("BEGIN IMMEDIATE")
                self._group = asyncio.get_running_loop().create_future()
                self._commit_queued = False
            group = self._group
            raw.execute("SAVEPOINT porch_tx")
            try:
                yield self._writer
            except BaseException:
                # Some errors (a full disk, I/O) end the whole transaction; the group's other
                # writers then fail at COMMIT, before anything of theirs was acknowledged.
                if raw.in_transaction:
                    raw.execute("ROLLBACK TO porch_tx")
                    raw.execute("RELEASE porch_tx")
                self._queue_commit()
                raise
            raw.execute("RELEASE porch_tx")
            self._queue_commit()
        # Durable before the caller goes on (and, through it, before anything is acknowledged).
        if durable:
            await asyncio.shield(group)

    def _queue_commit(self) -> None:
        # Queued behind the writers already waiting for the lock, so they join this group;
        # writers that arrive later start the next one.
        if not self._commit_queued:
            self._commit_queued = True
            task = asyncio.get_running_loop().create_task(self._commit())
            self._committers.add(task)
            task.add_done_callback(self._committers.discard)

    async def _commit(self) -> None:
        async with self._lock:
            group, self._group = self._group, None
            assert group is not None
            raw = self._writer._conn
            try:
                if not raw.in_transaction:
                    raise sqlite3.OperationalError("the group's transaction was rolled back")
                # Off the event loop: COMMIT may checkpoint (copy the log into the database and
                # sync it), which takes the disk's time, and the loop meanwhile serves requests.
                await asyncio.to_thread(raw.execute, "COMMIT")
            except BaseException as exc:
                if raw.in_transaction:
                    raw.execute("ROLLBACK")
                _fail(group, exc)
                return
        try:
            if self._sync_wal:
                await asyncio.to_thread(self._fsync_wal)
        except BaseException as exc:
            _fail(group, exc)
            return
        group.set_result(None)

    def _fsync_wal(self) -> None:
        """Put the write-ahead log's committed frames on disk (fsync is per file, whichever
        descriptor asks)."""
        if self._wal_fd is None:
            self._wal_fd = os.open(self._wal_path, os.O_RDONLY)
        os.fsync(self._wal_fd)

    async def close(self) -> None:
        while self._committers:
            await asyncio.wait(list(self._committers))
        self._conn.close()
        self._writer._conn.close()
        if self._wal_fd is not None:
            os.close(self._wal_fd)
            self._wal_fd = None


def _fail(group: asyncio.Future[None], exc: BaseException) -> None:
    group.set_exception(exc)
    # Retrieved by each writer of the group; mark it so a group nobody awaits (all cancelled)
    # does not log "exception never retrieved".
    group.exception()


# --- PostgreSQL ---------------------------------------------------------------------------


def _pg_integrity() -> type[Exception]:
    import asyncpg

    cls: type[Exception] = asyncpg.IntegrityConstraintViolationError
    return cls


class _PgConn:
    dialect = "postgresql"

    def __init__(self, conn: Any) -> None:
        self._conn = conn

    async def fetch_one(self, q: Query, **params: Any) -> Row | None:
        sql, args = _args(q, "postgresql", params)
        try:
            row: Row | None = await self._conn.fetchrow(sql, *args)
        except _pg_integrity() as exc:
            raise IntegrityError(str(exc)) from exc
        return row

    async def fetch_all(self, q: Query, **params: Any) -> list[Row]:
        sql, args = _args(q, "postgresql", params)
        if q.custom_plan:
            return await self._custom_plan(sql, args)
        rows: list[Row] = await self._conn.fetch(sql, *args)
        return rows

    async def _custom_plan(self, sql: str, args: list[Any]) -> list[Row]:
        # A prepared statement is planned for its parameters only for its first five runs; then
        # PostgreSQL may keep a generic plan, which for a search (how common is this word? how
        # many conversations carry that tag?) measured three times slower than planning each
        # call. Inside a transaction the setting lasts until its end.
        await self._conn.execute("SET LOCAL plan_cache_mode = force_custom_plan")
        rows: list[Row] = await self._conn.fetch(sql, *args)
        return rows

    async def execute(self, q: Query, **params: Any) -> int:
        sql, args = _args(q, "postgresql", params)
        try:
            status: str = await self._conn.execute(sql, *args)
        except _pg_integrity() as exc:
            raise IntegrityError(str(exc)) from exc
        # asyncpg returns the command tag, e.g. "UPDATE 3" or "INSERT 0 1".
        tail = status.rsplit(" ", 1)[-1]
        return int(tail) if tail.isdigit() else 0

    async def execute_many(self, q: Query, rows: Sequence[dict[str, Any]]) -> None:
        if not rows:
            return
        sql = _args(q, "postgresql", rows[0])[0]
        try:
            await self._conn.executemany(sql, [_args(q, "postgresql", r)[1] for r in rows])
        except _pg_integrity() as exc:
            raise IntegrityError(str(exc)) from exc

    async def insert(self, q: Query, **params: Any) -> int:
        sql, args = _args(q, "postgresql", params)
        try:
            key: int = await self._conn.fetchval(sql, *args)
        except _pg_integrity() as exc:
            raise IntegrityError(str(exc)) from exc
        return key

    @asynccontextmanager
    async def savepoint(self) -> AsyncIterator[None]:
        # A transaction opened inside one is a savepoint in asyncpg.
        async with self._conn.transaction():
            yield


class PgDatabase(_PgConn):
    """PostgreSQL through an asyncpg pool; every statement is prepared once per connection."""

    def __init__(self, pool: Any) -> None:
        super().__init__(pool)
        self._pool = pool

    @asynccontextmanager
    async def transaction(self, *, durable: bool = True) -> AsyncIterator[Connection]:
        async with self._pool.acquire() as conn, conn.transaction():
            if not durable:
                await conn.execute("SET LOCAL synchronous_commit TO OFF")
            yield _PgConn(conn)

    async def _custom_plan(self, sql: str, args: list[Any]) -> list[Row]:
        async with self.transaction() as tx:
            assert isinstance(tx, _PgConn)
            return await tx._custom_plan(sql, args)

    async def close(self) -> None:
        await self._pool.close()


async def concurrently(conn: Reader, *reads: Awaitable[Any]) -> list[Any]:
    """The results of ``reads`` (queries on ``conn``), in order. On a PostgreSQL pool they run
    at once, each on a connection of its own, so a page's few independent reads cost one round
    trip's wait instead of one each; anywhere else (SQLite, or inside a transaction, which is
    one connection) one after the other."""
    if isinstance(conn, PgDatabase):
        return list(await asyncio.gather(*reads))
    return [await r for r in reads]


def sqlite_path(url: str) -> str:
    """The file path of a ``sqlite:///...`` URL."""
    return url.split(":///", 1)[1]


def pg_dsn(url: str) -> str:
    """A libpq-style DSN from a SQLAlchemy-style PostgreSQL URL (driver suffix dropped)."""
    scheme, rest = url.split("://", 1)
    return "postgresql://" + rest if scheme.startswith("postgres") else url


def sync_url(url: str) -> str:
    """The SQLAlchemy URL Alembic uses: psycopg for PostgreSQL, pysqlite for SQLite."""
    if url.startswith("sqlite"):
        return url
    return "postgresql+psycopg://" + url.split("://", 1)[1]


async def connect(url: str, *, sqlite_synchronous: str = "FULL", pool_size: int = 10) -> Database:
    """Open the database named by ``url`` (already migrated)."""
    if url.startswith("sqlite"):
        return SqliteDatabase(sqlite_path(url), sqlite_synchronous)
    import asyncpg

    pool = await asyncpg.create_pool(
        pg_dsn(url), min_size=1, max_size=pool_size, statement_cache_size=2000
    )
    return PgDatabase(pool)


def rows_to(seq: Sequence[Row], key: str) -> list[Any]:
    """The values of one column of ``seq``."""
    return [r[key] for r in seq]
