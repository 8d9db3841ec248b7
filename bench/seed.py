"""Seed a realistic company for the conversation benchmarks.

    .venv/bin/python bench/seed.py --database-url URL [--conversations 100000]
        [--messages 1000000] [--seed 1] [--scale 1.0] [--json FILE]

On a database (migrated here if it is not yet), it creates a company the way ``porch init``
does, then its reference objects through Porch's domain actions (20 teammates, 5 shared
inboxes each with a custom channel, 50 company tags), and bulk-loads the rest straight into
the tables with the values Porch's receiving and sending paths write (see
porch.domain.message_writes.write_message and porch.domain.outbound): conversations in an inbox with
tags and assignees, contacts with their handles reused across conversations, and messages
(inbound from a contact, replies authored by teammates) with their recipients. Bodies are
sentences drawn from a generated vocabulary with a Zipf-like frequency, so that search sees
common and rare words. Everything derives from ``--seed``: two runs with the same arguments
write the same rows (uids and ticket numbers included), except the company's token.

SQLite is loaded with ``executemany`` in large transactions (``synchronous=OFF`` while loading,
then a checkpoint); PostgreSQL with ``COPY`` (asyncpg ``copy_records_to_table``), then its
sequences are moved past the loaded keys and the tables analysed (as autovacuum would).
Events are not written for the bulk rows unless ``--events`` (no benchmark reads them).
Afterwards the search index is rebuilt if Porch has one (``porch.events.search_index``).

It prints what it made and how long it took, and with ``--json`` writes the facts the other
benchmarks need (token, company key, channel ids, a sample of conversation ids, tag ids).
"""

from __future__ import annotations

import argparse
import asyncio
import bisect
import itertools
import json
import random
import sqlite3
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
if str(REPO / "src") not in sys.path:
    sys.path.insert(0, str(REPO / "src"))

from porch import ids  # noqa: E402
from porch.store import tables  # noqa: E402

# Conversations end before this fixed time (2026-11-01T00:00:00Z) and start up to a year
# earlier: fixed so that a seed always writes the same rows.
END_MS = 1_793_491_200_000
SPAN_MS = 365 * 86_400_000
TEAMMATES = 20
INBOXES = ("Support", "Sales", "Billing", "Partners", "Press")
INBOX_WEIGHTS = (50, 20, 20, 7, 3)
TAGS = 50
VOCABULARY = 30_000
ZIPF_S = 1.07
# Stored state mix (Front's status: assigned/unassigned, archived, deleted).
STATES = (("open", 25), ("archived", 65), ("trashed", 8), ("spam", 2))
CHUNK = 2_000  # conversations generated and written at a time
FIRST = ("Ada", "Ben", "Cleo", "Dev", "Eli", "Fay", "Gus", "Hana", "Ivo", "June", "Kai", "Lea")
LAST = ("Smith", "Ng", "Garcia", "Okafor", "Kim", "Rossi", "Novak", "Silva", "Berg", "Khan")
GREETINGS = ("Hi,", "Hello,", "Hi team,", "Good morning,", "Hey there,", "Dear support,")
SIGN_OFFS = ("Thanks", "Best regards", "Cheers", "Thank you", "Kind regards")


# --- words -----------------------------------------------------------------------------------

_ONSETS: tuple[str, ...] = ("b", "c", "d", "f", "g", "h", "k", "l", "m", "n", "p", "r", "s", "t")
_ONSETS += (
    "v",
    "w",
    "br",
    "ch",
    "cl",
    "dr",
    "fl",
    "gr",
    "pl",
    "pr",
    "sh",
    "sl",
    "st",
    "th",
    "tr",
    "",
)
_VOWELS = ("a", "e", "i", "o", "u", "ai", "ea", "ou", "io", "ee")
_CODAS = ("", "", "n", "r", "s", "t", "l", "m", "nd", "st", "ck", "ng", "rt", "x")


def vocabulary(rng: random.Random, size: int) -> list[str]:
    """``size`` distinct pronounceable pseudo-words, shortest (most common) first."""
    words: dict[str, None] = {}
    while len(words) < size:
        syllables = 1 + min(3, int(rng.expovariate(1.2)))
        word = "".join(
            rng.choice(_ONSETS) + rng.choice(_VOWELS) + rng.choice(_CODAS) for _ in range(syllables)
        )
        if 2 <= len(word) <= 14:
            words.setdefault(word, None)
    # Frequent words are short in natural language; rank them by length (stable, seeded).
    return sorted(words, key=len)


class Words:
    """Draws words with probability proportional to 1 / rank**ZIPF_S."""

    def __init__(self, rng: random.Random, size: int) -> None:
        self.rng = rng
        self.words = vocabulary(rng, size)
        self.cum = list(itertools.accumulate(1 / (r**ZIPF_S) for r in range(1, size + 1)))
        self.total = self.cum[-1]

    def draw(self, k: int) -> list[str]:
        r, cum, total, words, hi = self.rng.random, self.cum, self.total, self.words, len(self.cum)
        return [words[bisect.bisect(cum, r() * total, 0, hi - 1)] for _ in range(k)]

    def sentence(self) -> str:
        w = self.draw(self.rng.randint(5, 14))
        return w[0].capitalize() + " " + " ".join(w[1:]) + self.rng.choice(".....?!")

    def subject(self) -> str:
        w = self.draw(self.rng.randint(3, 7))
        return w[0].capitalize() + " " + " ".join(w[1:])

    def body(self, inbound: bool, first_name: str) -> str:
        rng = self.rng
        n = rng.randint(2, 5) if inbound else rng.randint(1, 4)
        paras = [" ".join(self.sentence() for _ in range(rng.randint(1, 3))) for _ in range(n)]
        if inbound:
            return f"{rng.choice(GREETINGS)}\n\n" + "\n\n".join(paras) + f"\n\n{first_name}"
        return f"Hi {first_name},\n\n" + "\n\n".join(paras) + f"\n\n{rng.choice(SIGN_OFFS)}"


def blurb(text: str) -> str:
    # porch.domain.message_text.blurb, without importing the domain into the hot loop.
    return " ".join(text.split())[:150]


# --- the company and its reference objects ----------------------------------------------------


@dataclass
class Reference:
    company_id: int
    token: str
    admin_id: int
    teammate_ids: list[int]
    teammate_names: dict[int, str]
    inbox_ids: list[int]
    channel_ids: list[int]
    channel_addresses: list[str]
    tag_ids: list[int]
    tag_names: list[str]


async def make_reference(url: str, rng: random.Random, words: Words) -> Reference:
    """A company, its teammates, inboxes, custom channels and tags, through Porch's domain."""
    from porch.domain import auth, channels, companies, inboxes, teammates, tokens
    from porch.domain import tags as tags_domain
    from porch.store.db import connect

    db = await connect(url, pool_size=2)
    try:
        new = await companies.do_create_company(
            db,
            name="Bench Company",
            admin_email="admin@bench.example",
            rate_limit_per_minute=10_000_000,
        )
        principal = auth.principal_from(
            token_id=new.token_id,
            company_id=new.company_id,
            namespaces=list(tokens.ALL_NAMESPACES),
            permissions=list(tokens.ALL_PERMISSIONS),
            rate_limit_per_minute=10_000_000,
            rate_limit_burst=False,
        )
        teammate_ids, names = [], {}
        for i in range(TEAMMATES):
            first, last = FIRST[i % len(FIRST)], LAST[(i * 7) % len(LAST)]
            tm = await teammates.do_create_teammate(
                db,
                principal=principal,
                email=f"{first.lower()}.{last.lower()}{i}@bench.example",
                first_name=first,
                last_name=last,
                team_ids=[new.team_id],
            )
            teammate_ids.append(tm.id)
            names[tm.id] = f"{first} {last}"
        inbox_ids, channel_ids, addresses = [], [], []
        for name in INBOXES:
            inbox = await inboxes.do_create_inbox(
                db, principal=principal, owner=inboxes.Owner(team_id=new.team_id), name=name
            )
            inbox_ids.append(inbox.id)
            key = await channels.do_create_channel(
                db, principal=principal, inbox=inbox, type="custom", name=f"{name} API"
            )
            channel_ids.append(key)
        from porch.store import channels as channels_store

        for key in channel_ids:
            ch = await channels_store.get(db, company_id=new.company_id, key=key)
            assert ch is not None and ch.address is not None
            addresses.append(ch.address)
        tag_ids: list[int] = []
        tag_names: list[str] = []
        for word in dict.fromkeys(words.words[40:400]):
            if len(tag_ids) == TAGS:
                break
            tag = await tags_domain.do_create_tag(
                db,
                principal=principal,
                owner=tags_domain.Owner(),
                name=word,
                highlight=rng.choice((None, "blue", "red", "green")),
            )
            tag_ids.append(tag.id)
            tag_names.append(word)
        return Reference(
            new.company_id,
            new.token,
            new.teammate_id,
            teammate_ids,
            names,
            inbox_ids,
            channel_ids,
            addresses,
            tag_ids,
            tag_names,
        )
    finally:
        await db.close()


# --- rows ------------------------------------------------------------------------------------


# The columns loaded per table, in the order rows are built. Checked against store/tables.py so
# that a new NOT NULL column without a default stops the seed instead of failing mid-load.
def _cols(names: str) -> tuple[str, ...]:
    return tuple(names.split())


COLUMNS: dict[str, tuple[str, ...]] = {
    "contacts": _cols(
        "id company_id name description is_private custom_fields created_at updated_at"
    ),
    "contact_handles": _cols("company_id contact_id source handle"),
    "conversations": _cols(
        "id company_id type subject state assignee_id status_id waiting_since ticket_number"
        " is_private description due_at custom_fields merged_into_id created_at updated_at"
        " activity_at"
    ),
    "conversation_inboxes": _cols("company_id conversation_id inbox_id"),
    "conversation_tags": _cols("company_id conversation_id tag_id"),
    "messages": _cols(
        "id company_id conversation_id uid type is_inbound is_draft author_id subject body text"
        " blurb external_id thread_ref created_at channel_id inbox_id metadata draft_mode version"
        " delivery_status error_type"
    ),
    "message_recipients": _cols("company_id message_id position contact_id handle name role"),
    "events": _cols(
        "id company_id type is_public emitted_at conversation_id source_type source_id"
        " target_type target_id data"
    ),
}


def check_columns() -> None:
    for name, cols in COLUMNS.items():
        table = tables.metadata.tables[name]
        unknown = set(cols) - set(table.c.keys())
        missing = [
            c.name
            for c in table.c
            if c.name not in cols
            and not c.nullable
            and c.server_default is None
            and not (c.primary_key and c.autoincrement is True)
        ]
        if unknown or missing:
            sys.exit(f"bench/seed.py is out of date for table {name}: {unknown or missing}")


@dataclass
class Chunk:
    rows: dict[str, list[tuple[Any, ...]]] = field(
        default_factory=lambda: {name: [] for name in COLUMNS}
    )


@dataclass
class Plan:
    conversations: int
    messages: int
    contacts: int
    seed: int
    events: bool


def message_counts(rng: random.Random, n: int, total: int) -> list[int]:
    """1 to 30 messages per conversation, skewed to few, summing to ``total`` exactly."""
    mean = total / n
    counts = [max(1, min(30, round(rng.gammavariate(1.6, mean / 1.6)))) for _ in range(n)]
    diff = total - sum(counts)
    step = 1 if diff > 0 else -1
    while diff:
        i = rng.randrange(n)
        if 1 <= counts[i] + step <= 30:
            counts[i] += step
            diff -= step
    return counts


class Generator:
    """Rows of one company, conversation by conversation, deterministic for a seed."""

    def __init__(self, plan: Plan, ref: Reference, rng: random.Random, words: Words) -> None:
        self.plan, self.ref, self.rng, self.words = plan, ref, rng, words
        self.counts = message_counts(rng, plan.conversations, plan.messages)
        self.contact_names: list[tuple[str, str]] = []
        self.channel_contacts: list[int] = []
        # Popular contacts write many conversations (a Zipf-like reuse).
        self.contact_cum = list(
            itertools.accumulate(1 / (r**0.8) for r in range(1, plan.contacts + 1))
        )
        self.tag_cum = list(itertools.accumulate(1 / r for r in range(1, len(ref.tag_ids) + 1)))

    def contacts(self, first_key: int, company_id: int) -> Chunk:
        """The contacts (one custom handle each), then one per channel address (Porch resolves
        the ``to`` of an incoming message to a contact too)."""
        chunk = Chunk()
        rng = self.rng
        for i in range(self.plan.contacts):
            first, last = rng.choice(FIRST), rng.choice(LAST)
            handle = f"{first.lower()}.{last.lower()}.{i}@customer{i % 997}.example"
            self.contact_names.append((handle, f"{first} {last}"))
            at = END_MS - SPAN_MS - rng.randrange(SPAN_MS)
            key = first_key + i
            chunk.rows["contacts"].append(
                (key, company_id, f"{first} {last}", None, False, "{}", at, at)
            )
            chunk.rows["contact_handles"].append((company_id, key, "custom", handle))
        for j, address in enumerate(self.ref.channel_addresses):
            key = first_key + self.plan.contacts + j
            self.channel_contacts.append(key)
            at = END_MS - SPAN_MS
            chunk.rows["contacts"].append((key, company_id, None, None, False, "{}", at, at))
            chunk.rows["contact_handles"].append((company_id, key, "custom", address))
        return chunk

    def conversations(
        self, *, conv_key: int, msg_key: int, event_key: int, ticket: int | None
    ) -> Iterator[Chunk]:
        rng, words, ref, plan = self.rng, self.words, self.ref, self.plan
        company = ref.company_id
        first_contact = self.channel_contacts[0] - plan.contacts
        states = [s for s, _ in STATES]
        state_w = list(itertools.accumulate(w for _, w in STATES))
        inbox_w = list(itertools.accumulate(INBOX_WEIGHTS))
        chunk = Chunk()
        for n, count in enumerate(self.counts):
            cid = conv_key + n
            state = rng.choices(states, cum_weights=state_w)[0]
            assigned = rng.random() < (0.75 if state == "open" else 0.55)
            assignee = rng.choice(ref.teammate_ids) if assigned else None
            box = rng.choices(range(len(INBOXES)), cum_weights=inbox_w)[0]
            inbox, channel = ref.inbox_ids[box], ref.channel_ids[box]
            address, channel_contact = ref.channel_addresses[box], self.channel_contacts[box]
            ci = bisect.bisect(self.contact_cum, rng.random() * self.contact_cum[-1])
            ci = min(ci, plan.contacts - 1)
            handle, name = self.contact_names[ci]
            contact = first_contact + ci
            subject = words.subject()
            thread_ref = f"thread-{plan.seed}-{n}" if rng.random() < 0.5 else None
            start = END_MS - rng.randrange(SPAN_MS)
            at = start
            for k in range(count):
                inbound = k == 0 or rng.random() < 0.55
                if k:
                    at += int(rng.expovariate(1 / 7_200_000)) + 1_000  # ~2 h between messages
                mid = msg_key
                msg_key += 1
                if inbound:
                    body = words.body(True, name.split()[0])
                    author, meta = None, ("{}" if thread_ref is None else None)
                    if meta is None:
                        meta = json.dumps({"thread_ref": thread_ref}, separators=(",", ":"))
                    people: tuple[tuple[int | None, str, str | None, str], ...] = (
                        (contact, handle, name, "from"),
                        (channel_contact, address, None, "to"),
                    )
                    kind = "inbound"
                else:
                    author = assignee or rng.choice(ref.teammate_ids)
                    body = words.body(False, name.split()[0])
                    meta = "{}"
                    people = (
                        (None, address, ref.teammate_names[author], "from"),
                        (contact, handle, None, "to"),
                    )
                    kind = "out_reply"
                chunk.rows["messages"].append(
                    (
                        mid,
                        company,
                        cid,
                        f"{rng.getrandbits(128):032x}",
                        "custom",
                        inbound,
                        False,
                        author,
                        subject if k == 0 else "Re: " + subject,
                        body,
                        body,  # markdown bodies are their own text
                        blurb(body),
                        None,
                        thread_ref if inbound else None,
                        at,
                        channel,
                        inbox,
                        meta,
                        None,
                        None,
                        None if inbound else "sent",
                        None,
                    )
                )
                for pos, (p_contact, p_handle, p_name, role) in enumerate(people):
                    chunk.rows["message_recipients"].append(
                        (company, mid, pos, p_contact, p_handle, p_name, role)
                    )
                if plan.events:
                    data = json.dumps({"message_uid": chunk.rows["messages"][-1][3]})
                    chunk.rows["events"].append(
                        (event_key, company, kind, True, at, cid, "api", None, "message", mid, data)
                    )
                    event_key += 1
            chunk.rows["conversations"].append(
                (
                    cid,
                    company,
                    "conversation",
                    subject,
                    state,
                    assignee,
                    None,
                    None,
                    None if ticket is None else ticket + n,
                    False,
                    None,
                    None,
                    "{}",
                    None,
                    start,
                    at,
                    at,
                )
            )
            chunk.rows["conversation_inboxes"].append((company, cid, inbox))
            for tag in sorted(
                {
                    ref.tag_ids[bisect.bisect(self.tag_cum, rng.random() * self.tag_cum[-1])]
                    for _ in range(rng.choice((0, 0, 1, 1, 1, 2, 2, 3)))
                }
            ):
                chunk.rows["conversation_tags"].append((company, cid, tag))
            if len(chunk.rows["conversations"]) >= CHUNK:
                yield chunk
                chunk = Chunk()
        if chunk.rows["conversations"]:
            yield chunk


# --- loading ---------------------------------------------------------------------------------

# Parents before children, so foreign keys hold at every commit.
ORDER = (
    "contacts",
    "contact_handles",
    "conversations",
    "conversation_inboxes",
    "conversation_tags",
    "messages",
    "message_recipients",
    "events",
)


class SqliteLoader:
    def __init__(self, url: str) -> None:
        from porch.store.db import sqlite_path

        self.conn = sqlite3.connect(sqlite_path(url), isolation_level=None)
        self.conn.execute("PRAGMA journal_mode=WAL")
        # Nothing reads the database while it loads; durability comes from the final commit.
        self.conn.execute("PRAGMA synchronous=OFF")
        self.conn.execute("PRAGMA cache_size=-262144")
        self.conn.execute("BEGIN")

    def next_key(self, table: str) -> int:
        (found,) = self.conn.execute(f"SELECT coalesce(max(id), 0) FROM {table}").fetchone()  # noqa: S608
        return int(found) + 1

    def has_column(self, table: str, column: str) -> bool:
        return any(r[1] == column for r in self.conn.execute(f"PRAGMA table_info({table})"))

    def write(self, chunk: Chunk) -> None:
        for table in ORDER:
            rows = chunk.rows[table]
            if rows:
                cols = COLUMNS[table]
                sql = (
                    f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})"  # noqa: S608
                )
                self.conn.executemany(sql, rows)

    def commit(self) -> None:
        self.conn.execute("COMMIT")
        self.conn.execute("BEGIN")

    def execute(self, sql: str, *args: Any) -> None:
        self.conn.execute(sql, args)

    def finish(self) -> None:
        self.conn.execute("COMMIT")
        self.conn.execute("PRAGMA synchronous=FULL")
        self.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        self.conn.close()


class PgLoader:
    def __init__(self, url: str) -> None:
        import asyncpg

        from porch.store.db import pg_dsn

        self.loop = asyncio.new_event_loop()
        self.conn = self.loop.run_until_complete(asyncpg.connect(pg_dsn(url)))
        self.tx = self.conn.transaction()
        self.loop.run_until_complete(self.tx.start())

    def _run(self, coro: Any) -> Any:
        return self.loop.run_until_complete(coro)

    def next_key(self, table: str) -> int:
        return int(self._run(self.conn.fetchval(f"SELECT coalesce(max(id), 0) FROM {table}"))) + 1  # noqa: S608

    def has_column(self, table: str, column: str) -> bool:
        found = self._run(
            self.conn.fetchval(
                "SELECT count(*) FROM information_schema.columns"
                " WHERE table_name = $1 AND column_name = $2",
                table,
                column,
            )
        )
        return bool(found)

    def write(self, chunk: Chunk) -> None:
        for table in ORDER:
            rows = chunk.rows[table]
            if rows:
                self._run(
                    self.conn.copy_records_to_table(table, records=rows, columns=COLUMNS[table])
                )

    def commit(self) -> None:
        self._run(self.tx.commit())
        self.tx = self.conn.transaction()
        self._run(self.tx.start())

    def execute(self, sql: str, *args: Any) -> None:
        pg_sql = sql
        for i in range(len(args)):
            pg_sql = pg_sql.replace("?", f"${i + 1}", 1)
        self._run(self.conn.execute(pg_sql, *args))

    def finish(self) -> None:
        self._run(self.tx.commit())
        for table in ("contacts", "conversations", "messages", "events"):
            self._run(
                self.conn.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'),"  # noqa: S608
                    f" (SELECT coalesce(max(id), 1) FROM {table}))"
                )
            )
        self._run(self.conn.execute("ANALYZE"))
        self._run(self.conn.close())
        self.loop.close()


# --- main ------------------------------------------------------------------------------------


@dataclass
class Seeded:
    """What the benchmarks need to know about a seeded company."""

    database_url: str
    company_id: int
    token: str
    conversations: int
    messages: int
    contacts: int
    seconds: float
    conversation_ids: list[str]
    channel_ids: list[str]
    tag_ids: list[str]
    tag_names: list[str]
    common_words: list[str]
    search_index: str


def rebuild_search(url: str, company_id: int) -> str:
    """Rebuild Porch's search index if Porch has one; says what happened."""
    try:
        from porch.events import search_index
    except ImportError:
        return "not available (porch.events.search_index is missing): search index not built"
    rebuild = getattr(search_index, "rebuild", None)
    if rebuild is None:
        return "not available (porch.events.search_index has no rebuild): not built"
    from porch.store.db import connect

    async def go() -> None:
        db = await connect(url, pool_size=2)
        try:
            await rebuild(db, company_id=company_id)
        finally:
            await db.close()

    started = time.monotonic()
    asyncio.run(go())
    return f"rebuilt in {time.monotonic() - started:.1f} s"


def seed(
    url: str,
    *,
    conversations: int,
    messages: int,
    seed: int,
    events: bool = False,
    search: bool = True,
    log: Any = print,
) -> Seeded:
    """Create and load one company on the database at ``url`` (migrated first if needed)."""
    from porch.store import migrate

    if messages < conversations or messages > 30 * conversations:
        raise ValueError("messages must be between 1 and 30 per conversation")
    check_columns()
    started = time.monotonic()
    migrate.upgrade(url)
    rng = random.Random(seed)
    words = Words(rng, VOCABULARY)
    ref = asyncio.run(make_reference(url, rng, words))
    log(f"company {ids.encode(ids.COMPANY, ref.company_id)}: reference objects made")
    plan = Plan(conversations, messages, max(10, conversations * 3 // 10), seed, events)
    gen = Generator(plan, ref, rng, words)
    loader: SqliteLoader | PgLoader = (
        SqliteLoader(url) if url.startswith("sqlite") else PgLoader(url)
    )
    try:
        loader.write(gen.contacts(loader.next_key("contacts"), ref.company_id))
        conv_key = loader.next_key("conversations")
        ticket = None
        if loader.has_column("companies", "next_ticket_number"):
            ticket = 1  # the company is new: its tickets start at 1
        chunks = gen.conversations(
            conv_key=conv_key,
            msg_key=loader.next_key("messages"),
            event_key=loader.next_key("events"),
            ticket=ticket,
        )
        done = 0
        for i, chunk in enumerate(chunks):
            loader.write(chunk)
            done += len(chunk.rows["conversations"])
            if i % 10 == 9:
                loader.commit()
                log(
                    f"  {done:,}/{conversations:,} conversations"
                    f" ({time.monotonic() - started:.0f} s)"
                )
        if ticket is not None:
            loader.execute(
                "UPDATE companies SET next_ticket_number = ? WHERE id = ?",
                conversations + 1,
                ref.company_id,
            )
        loader.finish()
    except BaseException:
        if isinstance(loader, PgLoader):
            loader.loop.close()
        raise
    loaded = time.monotonic() - started
    log(f"loaded in {loaded:.1f} s; search index: ...")
    index = rebuild_search(url, ref.company_id) if search else "skipped (--no-search)"
    log(f"search index: {index}")
    sample = random.Random(seed + 1).sample(range(conversations), min(conversations, 1000))
    return Seeded(
        database_url=url,
        company_id=ref.company_id,
        token=ref.token,
        conversations=conversations,
        messages=messages,
        contacts=plan.contacts,
        seconds=round(time.monotonic() - started, 1),
        conversation_ids=[ids.encode(ids.CONVERSATION, conv_key + i) for i in sample],
        channel_ids=[ids.encode(ids.CHANNEL, k) for k in ref.channel_ids],
        tag_ids=[ids.encode(ids.TAG, k) for k in ref.tag_ids],
        tag_names=ref.tag_names,
        # Words of middling frequency (ranks 100-300): found in thousands of messages, not all.
        common_words=words.words[100:300],
        search_index=index,
    )


def sizes(args: argparse.Namespace) -> tuple[int, int]:
    return max(1, round(args.conversations * args.scale)), max(1, round(args.messages * args.scale))


def main(argv: Sequence[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--database-url", required=True, help="sqlite:///path or postgresql://...")
    p.add_argument("--conversations", type=int, default=100_000)
    p.add_argument("--messages", type=int, default=1_000_000)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--scale", type=float, default=1.0, help="multiply both counts (e.g. 0.01)")
    p.add_argument("--events", action="store_true", help="also write a message event per message")
    p.add_argument("--no-search", action="store_true", help="do not rebuild the search index")
    p.add_argument("--json", type=Path, default=None, help="write the seeded facts here")
    args = p.parse_args(argv)
    conversations, messages = sizes(args)
    done = seed(
        args.database_url,
        conversations=conversations,
        messages=messages,
        seed=args.seed,
        events=args.events,
        search=not args.no_search,
    )
    print(
        f"seeded {done.conversations:,} conversations, {done.messages:,} messages,"
        f" {done.contacts:,} contacts in {done.seconds:.1f} s"
        f" (company {ids.encode(ids.COMPANY, done.company_id)})"
    )
    print(f"token: {done.token}")
    if args.json:
        args.json.write_text(json.dumps(asdict(done), indent=2))


if __name__ == "__main__":
    main()
