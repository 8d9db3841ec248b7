"""``porch sync`` (the warehouse sync) against a real Porch seeded through its API, into real
DuckDB files and a real PostgreSQL: a full sync, table by table; an incremental run after
changes (tag, archive, trash, delete) capturing exactly those, history included; a sync killed
with SIGKILL and resumed equals a clean one."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import pytest

duckdb = pytest.importorskip("duckdb")

from porch.sync.warehouse import SyncConfig, sync_warehouse  # noqa: E402
from porch.sync.warehouse.engine import Summary  # noqa: E402
from tests.conftest import Company  # noqa: E402
from tests.pg import PgServer  # noqa: E402

PORCH = Path(sys.executable).parent / "porch"


def _seed(company: Company, conversations: int) -> dict[str, Any]:
    """An inbox, a tag, a contact custom field and ``conversations`` imported messages (each its
    own conversation and sender contact), one with a comment."""
    api = company.api
    api.ok(
        "POST",
        "/porch/custom_fields",
        201,
        json={"object_type": "contact", "name": "Seats", "type": "number"},
    )
    tag = api.ok("POST", "/company/tags", 201, json={"name": "vip"})["id"]
    inbox = api.ok("POST", f"/teams/{company.team_id}/inboxes", 201, json={"name": "Support"})["id"]
    uids = []
    for n in range(conversations):
        body = {
            "sender": {"handle": f"customer{n}@example.com", "name": f"Customer {n}"},
            "to": ["support@example.com"],
            "subject": f"Order {n}",
            "body": f"Where is order {n}?",
            "external_id": f"ext-{n}-{uuid.uuid4().hex[:6]}",
            "created_at": int(time.time()) - 3600 * n,
            # Open, not archived (an import is archived by default): archiving one later is a
            # change, with its event and status-history row.
            "metadata": {"is_inbound": True, "is_archived": False},
        }
        uids.append(
            api.ok("POST", f"/inboxes/{inbox}/imported_messages", 202, json=body)["message_uid"]
        )
    messages = [api.message(uid) for uid in uids]
    convs = [m["_links"]["related"]["conversation"].rsplit("/", 1)[-1] for m in messages]
    contact = next(r for r in messages[0]["recipients"] if r["role"] == "from")
    contact_id = contact["_links"]["related"]["contact"].rsplit("/", 1)[-1]
    api.ok("PATCH", f"/contacts/{contact_id}", 204, json={"custom_fields": {"Seats": 12}})
    api.ok("PATCH", f"/conversations/{convs[0]}", 204, json={"tag_ids": [tag]})
    api.ok("POST", f"/conversations/{convs[0]}/comments", 201, json={"body": "VIP, hurry"})
    return {"tag": tag, "inbox": inbox, "conversations": convs, "contact": contact_id}


def _run(company: Company, dest: str, *, token: str | None = None, **kw: Any) -> Summary:
    config = SyncConfig(
        base_url=company.server.url, token=token or company.token(), destination=dest, **kw
    )
    return asyncio.run(sync_warehouse(config))


def _q(path: Path, sql: str) -> list[tuple[Any, ...]]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return [tuple(r) for r in con.execute(sql).fetchall()]
    finally:
        con.close()


def _count(path: Path, table: str, where: str = "true") -> int:
    return int(_q(path, f"SELECT count(*) FROM front.{table} WHERE {where}")[0][0])


def test_full_then_incremental_into_duckdb(dunder_mifflin: Company, tmp_path: Path) -> None:
    if dunder_mifflin.server.backend != "sqlite":
        pytest.skip("the sync reads the API; one server backend is enough")
    seeded = _seed(dunder_mifflin, 3)
    convs = seeded["conversations"]
    db = tmp_path / "w.duckdb"
    settings: dict[str, Any] = {
        "exclude_columns": {"message": ["body"]},
        "hash_columns": {"message_recipient": ["handle"]},
    }
    first = _run(dunder_mifflin, f"duckdb:///{db}", **settings)
    assert first.full
    assert _count(db, "conversation") == 3
    assert _count(db, "message") == 3
    assert _count(db, "message_recipient") == 6
    assert _count(db, "conversation_tag") == 1
    assert _count(db, "comment") == 1
    assert _count(db, "inbox", f"id = '{seeded['inbox']}'") == 1
    assert _count(db, "conversation_inbox", f"inbox_id = '{seeded['inbox']}'") == 3
    assert _count(db, "tag", "name = 'vip'") == 1
    # Custom fields as typed columns; blocked columns absent; hashed columns salted SHA-256.
    assert _q(db, f"SELECT custom_seats FROM front.contact WHERE id = '{seeded['contact']}'") == [
        (12.0,)
    ]
    cols = {
        r[0]
        for r in _q(
            db, "SELECT column_name FROM information_schema.columns WHERE table_name = 'message'"
        )
    }
    assert "body" not in cols and "blurb" in cols
    handles = sorted(r[0] for r in _q(db, "SELECT handle FROM front.message_recipient"))
    assert all(len(h) == 64 for h in handles)
    assert "customer0@example.com" not in handles

    # Changes through the API: tag, archive, trash, delete a contact.
    api = dunder_mifflin.api
    api.ok("PATCH", f"/conversations/{convs[1]}", 204, json={"tag_ids": [seeded["tag"]]})
    api.ok("POST", f"/conversations/{convs[1]}/comments", 201, json={"body": "On it"})
    api.ok("PATCH", f"/conversations/{convs[0]}", 204, json={"status": "archived"})
    api.ok("PATCH", f"/conversations/{convs[2]}", 204, json={"status": "deleted"})
    api.ok("DELETE", f"/contacts/{seeded['contact']}", 204)
    second = _run(dunder_mifflin, f"duckdb:///{db}", **settings)
    assert not second.full
    assert second.conversations == 3  # the three the events name, nothing else
    t = second.tables
    assert t["conversation"].updated == 2 and t["conversation"].deleted == 1
    assert t["conversation_tag"].inserted == 1
    assert t["conversation_tag_history"].inserted == 1
    assert t["conversation_status_history"].inserted == 2  # archive, trash
    assert t["contact"].deleted == 1
    assert t["comment"].inserted == 1 and _count(db, "comment") == 2
    # Refetched for a tag or a status, a conversation keeps its inbox rows.
    assert _count(db, "conversation_inbox", f"inbox_id = '{seeded['inbox']}'") == 3
    assert t["message"].inserted == 0 and t["message"].updated == 0
    assert _q(db, f"SELECT status, _deleted FROM front.conversation WHERE id = '{convs[2]}'") == [
        ("deleted", True)
    ]
    assert _q(db, f"SELECT _deleted FROM front.contact WHERE id = '{seeded['contact']}'") == [
        (True,)
    ]
    history = _q(
        db,
        "SELECT conversation_id, status, event_type FROM"
        " front.conversation_status_history ORDER BY updated_at",
    )
    assert history[-2:] == [(convs[0], "archived", "archive"), (convs[2], "deleted", "trash")]
    assert _q(
        db,
        "SELECT conversation_id, event_type FROM front.conversation_tag_history"
        f" WHERE conversation_id = '{convs[1]}'",
    ) == [(convs[1], "tag")]
    # Hashes are stable across runs (the salt is kept in the state).
    assert sorted(r[0] for r in _q(db, "SELECT handle FROM front.message_recipient")) == handles
    # Nothing changed: a third run writes nothing.
    third = _run(dunder_mifflin, f"duckdb:///{db}", **settings)
    assert third.rows == 0


def test_deleted_contacts_from_porchs_log_or_by_listing(
    dunder_mifflin: Company, tmp_path: Path
) -> None:
    """With the provisioning scope the sync reads deletions (merges included) from Porch's log
    instead of listing every contact; without it, it lists them: the same contacts flagged, the
    log's way in fewer requests."""
    if dunder_mifflin.server.backend != "sqlite":
        pytest.skip("the sync reads the API; one server backend is enough")
    seeded = _seed(dunder_mifflin, 4)
    api = dunder_mifflin.api
    admin = dunder_mifflin.token(namespaces=["shared", "private", "provisioning"])
    plain = dunder_mifflin.token()
    logged, listed = tmp_path / "logged.duckdb", tmp_path / "listed.duckdb"

    def run(db: Path, token: str) -> Summary:
        config = SyncConfig(
            base_url=dunder_mifflin.server.url, token=token, destination=f"duckdb:///{db}"
        )
        return asyncio.run(sync_warehouse(config))

    assert run(logged, admin).full
    listed.write_bytes(logged.read_bytes())
    ids = [r[0] for r in _q(logged, "SELECT id FROM front.contact ORDER BY id")]
    others = [i for i in ids if i != seeded["contact"]]
    assert len(others) >= 3
    api.ok("DELETE", f"/contacts/{seeded['contact']}", 204)
    merged = api.ok("POST", "/contacts/merge", json={"contact_ids": [others[0], others[1]]})
    survivor = merged["id"]
    gone = {seeded["contact"], *({others[0], others[1]} - {survivor})}
    by_log, by_listing = run(logged, admin), run(listed, plain)
    for db, summary in ((logged, by_log), (listed, by_listing)):
        assert summary.tables["contact"].deleted == len(gone) == 2
        flagged = {r[0] for r in _q(db, "SELECT id FROM front.contact WHERE _deleted")}
        assert flagged == gone
    assert by_log.requests < by_listing.requests
    # Nothing deleted since: neither way flags anything again.
    again = run(logged, admin).tables
    assert (again["contact"].deleted if "contact" in again else 0) == 0


def test_full_sync_into_postgresql(
    dunder_mifflin: Company, pg_server: PgServer, tmp_path: Path
) -> None:
    if dunder_mifflin.server.backend != "sqlite":
        pytest.skip("the sync reads the API; one server backend is enough")
    import psycopg

    seeded = _seed(dunder_mifflin, 2)
    url = pg_server.create_database("wh_" + uuid.uuid4().hex[:10])
    summary = _run(dunder_mifflin, url)
    assert summary.tables["conversation"].inserted == 2
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT c.id, count(m.id) FROM front.conversation c"
            " JOIN front.message m ON m.conversation_id = c.id GROUP BY c.id ORDER BY c.id"
        ).fetchall()
        assert sorted(r[0] for r in rows) == sorted(seeded["conversations"])
        assert all(r[1] == 1 for r in rows)
        tags = conn.execute("SELECT tag_id FROM front.conversation_tag").fetchall()
        assert tags == [(seeded["tag"],)]
        seats = conn.execute(
            "SELECT custom_seats FROM front.contact WHERE id = %s", (seeded["contact"],)
        ).fetchone()
        assert seats == (12.0,)
    again = _run(dunder_mifflin, url)
    assert again.rows == 0


def _dump(path: Path) -> dict[str, list[tuple[Any, ...]]]:
    out = {}
    tables = [
        r[0]
        for r in _q(
            path,
            "SELECT table_name FROM information_schema.tables"
            " WHERE table_schema = 'front' AND table_name NOT LIKE '\\_%' ESCAPE '\\'",
        )
    ]
    for table in tables:
        cols = [
            r[0]
            for r in _q(
                path,
                "SELECT column_name FROM information_schema.columns"
                f" WHERE table_schema = 'front' AND table_name = '{table}'"
                " ORDER BY ordinal_position",
            )
            if r[0] != "_synced_at"
        ]
        names = ", ".join(f'"{c}"' for c in cols)
        out[table] = sorted(_q(path, f"SELECT {names} FROM front.{table}"), key=repr)
    return out


def test_killed_sync_resumes_to_the_same_result(dunder_mifflin: Company, tmp_path: Path) -> None:
    if dunder_mifflin.server.backend != "sqlite":
        pytest.skip("the sync reads the API; one server backend is enough")
    _seed(dunder_mifflin, 12)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PORCH_")}
    env["PORCH_TOKEN"] = dunder_mifflin.token()
    killed = tmp_path / "killed.duckdb"

    def cmd(db: Path) -> list[str]:
        return [
            str(PORCH),
            "sync",
            "--base-url",
            dunder_mifflin.server.url,
            "--destination",
            f"duckdb:///{db}",
            "--batch",
            "2",
        ]

    proc = subprocess.Popen(
        cmd(killed), env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    assert proc.stderr is not None
    commits = 0
    deadline = time.monotonic() + 60
    while commits < 3 and time.monotonic() < deadline:
        line = proc.stderr.readline()
        if not line:
            break
        commits += line.startswith("committed: recent_conversations")
    assert commits == 3, "the sync ended before it could be killed mid-way"
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    proc.stderr.close()
    assert proc.returncode == -signal.SIGKILL
    partial = _count(killed, "conversation")
    assert 0 < partial < 12
    resumed = subprocess.run(cmd(killed), env=env, capture_output=True, text=True, timeout=300)
    assert resumed.returncode == 0, resumed.stderr
    clean = tmp_path / "clean.duckdb"
    fresh = subprocess.run(cmd(clean), env=env, capture_output=True, text=True, timeout=300)
    assert fresh.returncode == 0, fresh.stderr
    assert _dump(killed) == _dump(clean)
    assert _count(killed, "conversation") == 12


def _parquet(root: Path, table: str) -> str:
    return f"read_parquet('{root}/front/{table}/*.parquet', union_by_name = true)"


def _current(root: Path, table: str, parent: str, parent_table: str) -> str:
    """The current rows of a child table on an append-only destination: those written with
    their parent's latest row (same ``_synced_at``); see docs/warehouse.md."""
    return (
        f"SELECT c.* FROM {_parquet(root, table)} c JOIN (SELECT id, max(_synced_at) AS at"
        f" FROM {_parquet(root, parent_table)} GROUP BY id) p"
        f" ON c.{parent} = p.id AND c._synced_at = p.at"
    )


def test_parquet_through_dlt(
    dunder_mifflin: Company, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """dlt's filesystem destination for real: Parquet files a query engine reads; latest row
    per key wins, child sets (tags) follow their parent, history rows are appended, a deleted
    contact (named by Porch's log: the token has the provisioning scope) gets a deleted row."""
    if dunder_mifflin.server.backend != "sqlite":
        pytest.skip("the sync reads the API; one server backend is enough")
    pytest.importorskip("dlt")
    seeded = _seed(dunder_mifflin, 3)
    convs = seeded["conversations"]
    bucket = tmp_path / "lake"
    monkeypatch.setenv("DESTINATION__FILESYSTEM__BUCKET_URL", bucket.as_uri())
    monkeypatch.setenv("RUNTIME__LOG_LEVEL", "WARNING")
    admin = dunder_mifflin.token(namespaces=["shared", "private", "provisioning"])
    kw: dict[str, Any] = {"pipelines_dir": str(tmp_path / "dlt"), "token": admin}
    first = _run(dunder_mifflin, "parquet", **kw)
    assert first.full
    con = duckdb.connect()

    def rows(sql: str) -> list[tuple[Any, ...]]:
        return [tuple(r) for r in con.execute(sql).fetchall()]

    assert rows(f"SELECT count(DISTINCT id) FROM {_parquet(bucket, 'conversation')}") == [(3,)]
    assert rows(f"SELECT count(DISTINCT id) FROM {_parquet(bucket, 'message')}") == [(3,)]
    assert rows(
        f"SELECT DISTINCT conversation_id, tag_id FROM {_parquet(bucket, 'conversation_tag')}"
    ) == [(convs[0], seeded["tag"])]
    # Untag the first conversation, tag the second, archive the third.
    api = dunder_mifflin.api
    api.ok("PATCH", f"/conversations/{convs[0]}", 204, json={"tag_ids": []})
    api.ok("PATCH", f"/conversations/{convs[1]}", 204, json={"tag_ids": [seeded["tag"]]})
    api.ok("PATCH", f"/conversations/{convs[2]}", 204, json={"status": "archived"})
    api.ok("DELETE", f"/contacts/{seeded['contact']}", 204)
    second = _run(dunder_mifflin, "parquet", **kw)
    assert not second.full
    assert second.tables["contact"].deleted == 1
    contacts = rows(
        f"SELECT id, _deleted FROM {_parquet(bucket, 'contact')}"
        " QUALIFY row_number() OVER (PARTITION BY id ORDER BY _synced_at DESC) = 1"
    )
    assert {i for i, deleted in contacts if deleted} == {seeded["contact"]}
    tagged = rows(
        "SELECT conversation_id, tag_id FROM"
        f" ({_current(bucket, 'conversation_tag', 'conversation_id', 'conversation')})"
    )
    assert tagged == [(convs[1], seeded["tag"])]
    # Each run's rows are stamped later than the last run's, even inside one second of the
    # server's clock (whole seconds): the latest row per key is always one row.
    stamps = rows(
        f"SELECT count(*), count(DISTINCT _synced_at) FROM {_parquet(bucket, 'conversation')}"
        f" WHERE id = '{convs[0]}'"
    )
    assert stamps[0][0] >= 2 and stamps[0][0] == stamps[0][1]
    latest = rows(
        f"SELECT id, status FROM {_parquet(bucket, 'conversation')}"
        " QUALIFY row_number() OVER (PARTITION BY id ORDER BY _synced_at DESC) = 1 ORDER BY id"
    )
    assert dict(latest)[convs[2]] == "archived"
    assert dict(latest)[convs[0]] == "unassigned"  # open, nobody assigned
    history = rows(
        f"SELECT conversation_id, status FROM {_parquet(bucket, 'conversation_status_history')}"
    )
    assert (convs[2], "archived") in history
    untags = rows(
        f"SELECT conversation_id, event_type FROM {_parquet(bucket, 'conversation_tag_history')}"
        " ORDER BY updated_at"
    )
    assert (convs[0], "untag") in untags and (convs[1], "tag") in untags


class _Lists:
    """A Reader's ``all``/``get`` over fixed inbox lists; B's second page held back until
    released."""

    def __init__(self) -> None:
        self.release = asyncio.Event()
        self.pages: dict[str, Any] = {
            "/inboxes/A/conversations": {"_results": [{"id": "c1"}, {"id": "c2"}]},
            "/inboxes/B/conversations": {
                "_results": [{"id": "c2"}],
                "_pagination": {"next": "/inboxes/B/more"},
            },
            "/inboxes/B/more": {"_results": [{"id": "c3"}]},
        }

    async def all(self, path: str, params: Any = None) -> list[dict[str, Any]]:
        return [{"id": "A"}, {"id": "B"}]

    async def get(self, path: str, params: Any = None, **kw: Any) -> Any:
        if path == "/inboxes/B/more":
            await self.release.wait()
        return self.pages[path]


def test_inbox_index_says_only_what_every_list_confirms() -> None:
    from porch.sync.warehouse.inboxes import InboxIndex

    async def go() -> None:
        lists = _Lists()
        index = InboxIndex(lists)  # type: ignore[arg-type]
        index.start()
        for _ in range(10):
            await asyncio.sleep(0)
        # A is read whole, B's first page only: c2 is in both (known), c1 may be in B's
        # rest (unknown).
        assert index.lookup("c2") == ["A", "B"]
        assert index.lookup("c1") is None
        lists.release.set()
        await index.finished()
        assert index.lookup("c1") == ["A"]
        assert index.lookup("c3") == ["B"]
        # In no listed inbox: maybe in one the token does not list, so read per conversation.
        assert index.lookup("c9") is None
        await index.stop()

    asyncio.run(go())


def test_conversation_inboxes_from_the_inbox_lists(
    dunder_mifflin: Company, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The inboxes' lists replace one request per conversation and land the same tables,
    a conversation in no inbox (a discussion) read per conversation."""
    if dunder_mifflin.server.backend != "sqlite":
        pytest.skip("the sync reads the API; one server backend is enough")
    from porch.sync.warehouse import backfill

    _seed(dunder_mifflin, 6)
    dunder_mifflin.api.ok(
        "POST",
        "/conversations",
        201,
        json={
            "type": "discussion",
            "subject": "Lunch",
            "teammate_ids": [dunder_mifflin.admin_id],
            "comment": {"body": "Pizza?"},
        },
    )
    original = backfill.index

    async def without(sync: Any, on: bool) -> None:
        await original(sync, False)

    async def complete(sync: Any, on: bool) -> None:
        await original(sync, on)
        if on and sync.read.inbox_index is not None:
            await sync.read.inbox_index.finished()

    monkeypatch.setattr(backfill, "index", without)
    per_conversation = _run(dunder_mifflin, f"duckdb:///{tmp_path / 'a.duckdb'}")
    monkeypatch.setattr(backfill, "index", complete)
    listed = _run(dunder_mifflin, f"duckdb:///{tmp_path / 'b.duckdb'}")
    assert per_conversation.conversations == listed.conversations >= 7
    # Six conversations' reads saved, at most a few list pages spent (one per inbox).
    assert listed.requests <= per_conversation.requests - 6 + 5
    assert _dump(tmp_path / "a.duckdb") == _dump(tmp_path / "b.duckdb")
    assert _count(tmp_path / "b.duckdb", "conversation_inbox") >= 6
