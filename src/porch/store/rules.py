"""Rule rows, their runs (the audit) and timers, and the reads the rules engine needs."""

from __future__ import annotations

from typing import Any, NamedTuple

import orjson
import sqlalchemy as sa

from porch.store.db import Connection, Query, Reader, Row, in_list
from porch.store.tables import (
    contact_list_members,
    conversation_inboxes,
    conversations,
    events,
    inboxes,
    message_recipients,
    messages,
    rule_runs,
    rule_timers,
    rules,
)
from porch.store.visibility import owned_by_visible

r = rules


class Rule(NamedTuple):
    """A rule row (fields are the table's columns, in order)."""

    id: int
    company_id: int
    name: str
    team_id: int | None
    owner_teammate_id: int | None
    is_enabled: bool
    definition: str
    state: str
    created_at: int
    updated_at: int
    deleted_at: int | None

    @classmethod
    def from_row(cls, row: Row) -> Rule:
        return cls(*row)  # type: ignore[arg-type]  # a row is a sequence of the columns

    @property
    def spec(self) -> dict[str, Any]:
        """The stored definition (triggers, conditions, actions) as JSON data."""
        loaded: dict[str, Any] = orjson.loads(self.definition)
        return loaded

    @property
    def memory(self) -> dict[str, Any]:
        loaded: dict[str, Any] = orjson.loads(self.state)
        return loaded


_live = sa.and_(r.c.company_id == sa.bindparam("company_id"), r.c.deleted_at.is_(None))


def _owner_scope() -> sa.ColumnElement[bool]:
    scope = sa.bindparam("scope", type_=sa.Text)
    owner = sa.bindparam("owner", type_=sa.BigInteger)
    return sa.or_(
        scope == "all",
        sa.and_(scope == "company", r.c.team_id.is_(None), r.c.owner_teammate_id.is_(None)),
        sa.and_(scope == "team", r.c.team_id == owner),
        sa.and_(scope == "teammate", r.c.owner_teammate_id == owner),
    )


_GET = Query(sa.select(r).where(_live, r.c.id == sa.bindparam("key")))
_ALL = Query(sa.select(r).where(_live).order_by(r.c.id))
_ENABLED = Query(
    sa.select(r).where(
        in_list(r.c.company_id, "company_ids"), r.c.deleted_at.is_(None), r.c.is_enabled
    )
)


_GET_ANY = Query(
    sa.select(r).where(r.c.company_id == sa.bindparam("company_id"), r.c.id == sa.bindparam("key"))
)


async def get(conn: Reader, *, company_id: int, key: int, deleted: bool = False) -> Rule | None:
    """The rule ``key`` of the company; a deleted one only with ``deleted``."""
    row = await conn.fetch_one(_GET_ANY if deleted else _GET, company_id=company_id, key=key)
    return Rule.from_row(row) if row else None


async def all_of(conn: Reader, *, company_id: int) -> list[Rule]:
    """Every rule of the company that is not deleted, oldest first."""
    return [Rule.from_row(x) for x in await conn.fetch_all(_ALL, company_id=company_id)]


async def enabled_of(conn: Reader, *, company_ids: list[int]) -> list[Rule]:
    """The enabled rules of these companies, oldest first (the order rules run in)."""
    rows = await conn.fetch_all(_ENABLED, company_ids=company_ids)
    return sorted((Rule.from_row(x) for x in rows), key=lambda x: x.id)


# --- Runs ------------------------------------------------------------------------------------

u = rule_runs
_RUN_EXISTS = Query(
    sa.select(u.c.id).where(
        u.c.rule_id == sa.bindparam("rule_id"),
        u.c.event_id == sa.bindparam("event_id"),
        u.c.kind == sa.bindparam("kind"),
    )
)
# The run whose actions appended event :event_id (by the range of ids they appended).
_CAUSING_RUN = Query(
    sa.select(u.c.depth)
    .where(
        u.c.rule_id == sa.bindparam("rule_id"),
        u.c.caused_to >= sa.bindparam("event_id", type_=sa.BigInteger),
        u.c.caused_from <= sa.bindparam("event_id", type_=sa.BigInteger),
    )
    .limit(1)
)
_CAUSED = Query(
    sa.select(sa.func.min(events.c.id).label("lo"), sa.func.max(events.c.id).label("hi")).where(
        events.c.company_id == sa.bindparam("company_id"),
        events.c.id > sa.bindparam("after", type_=sa.BigInteger),
        events.c.source_type == "rule",
        events.c.source_id == sa.bindparam("rule_id"),
    )
)
_LAST_EVENT = Query(sa.select(sa.func.max(events.c.id).label("id")))
_RUNS = Query(
    sa.select(u)
    .where(
        u.c.company_id == sa.bindparam("company_id"),
        u.c.rule_id == sa.bindparam("rule_id"),
        u.c.id < sa.bindparam("before", type_=sa.BigInteger),
    )
    .order_by(u.c.id.desc())
    .limit(sa.bindparam("lim"))
)


async def has_run(conn: Reader, *, rule_id: int, event_id: int, kind: str) -> bool:
    found = await conn.fetch_one(_RUN_EXISTS, rule_id=rule_id, event_id=event_id, kind=kind)
    return found is not None


async def depth_of_rule_event(conn: Reader, *, rule_id: int, event_id: int) -> int | None:
    """The depth of the run of ``rule_id`` whose actions appended ``event_id``, if known."""
    row = await conn.fetch_one(_CAUSING_RUN, rule_id=rule_id, event_id=event_id)
    return int(row["depth"]) if row else None


async def last_event_id(conn: Reader) -> int:
    row = await conn.fetch_one(_LAST_EVENT)
    return int(row["id"]) if row and row["id"] is not None else 0


async def caused_range(
    conn: Reader, *, company_id: int, rule_id: int, after: int
) -> tuple[int | None, int | None]:
    """The smallest and largest ids of the events ``rule_id`` appended after event ``after``."""
    row = await conn.fetch_one(_CAUSED, company_id=company_id, rule_id=rule_id, after=after)
    if row is None or row["lo"] is None:
        return None, None
    return int(row["lo"]), int(row["hi"])


async def runs_of(
    conn: Reader, *, company_id: int, rule_id: int, before: int, limit: int
) -> list[Row]:
    """The runs of a rule, newest first, with ids below ``before``."""
    return await conn.fetch_all(
        _RUNS, company_id=company_id, rule_id=rule_id, before=before, lim=limit
    )


# --- Timers ----------------------------------------------------------------------------------

m = rule_timers
_TIMER = Query(
    sa.select(m).where(
        m.c.rule_id == sa.bindparam("rule_id"), m.c.conversation_id == sa.bindparam("conv")
    )
)
_DUE = Query(
    sa.select(m)
    .where(m.c.fired_at.is_(None), m.c.due_at <= sa.bindparam("now", type_=sa.BigInteger))
    .order_by(m.c.due_at, m.c.id)
    .limit(sa.bindparam("lim"))
)
_CLAIM = Query(
    sa.update(m)
    .where(m.c.id == sa.bindparam("key"), m.c.fired_at.is_(None))
    .values(fired_at=sa.bindparam("now", type_=sa.BigInteger))
)
_CLEAR = Query(
    sa.delete(m).where(
        m.c.company_id == sa.bindparam("company_id"),
        m.c.conversation_id == sa.bindparam("conv"),
        in_list(m.c.rule_id, "rule_ids"),
    )
)


async def timer_of(conn: Reader, *, rule_id: int, conversation_id: int) -> Row | None:
    return await conn.fetch_one(_TIMER, rule_id=rule_id, conv=conversation_id)


async def due_timers(conn: Reader, *, now: int, limit: int) -> list[Row]:
    return await conn.fetch_all(_DUE, now=now, lim=limit)


async def claim_timer(tx: Connection, *, key: int, now: int) -> bool:
    """Mark the timer fired; False when another process fired it first."""
    return await tx.execute(_CLAIM, key=key, now=now) == 1


async def clear_timers(
    tx: Connection, *, company_id: int, conversation_id: int, rule_ids: list[int]
) -> None:
    await tx.execute(_CLEAR, company_id=company_id, conv=conversation_id, rule_ids=rule_ids)


# --- What conditions and actions read ----------------------------------------------------------

_CONV_INBOXES = Query(
    sa.select(inboxes.c.id, inboxes.c.team_id, inboxes.c.owner_teammate_id)
    .select_from(
        conversation_inboxes.join(inboxes, inboxes.c.id == conversation_inboxes.c.inbox_id)
    )
    .where(
        conversation_inboxes.c.company_id == sa.bindparam("company_id"),
        conversation_inboxes.c.conversation_id == sa.bindparam("conv"),
    )
)
_LATEST_INBOUND = Query(
    sa.select(messages)
    .where(
        messages.c.company_id == sa.bindparam("company_id"),
        messages.c.conversation_id == sa.bindparam("conv"),
        messages.c.is_inbound,
        messages.c.is_draft == sa.false(),
    )
    .order_by(messages.c.created_at.desc(), messages.c.id.desc())
    .limit(1)
)
_LISTS_OF = Query(
    sa.select(contact_list_members.c.list_id).where(
        contact_list_members.c.company_id == sa.bindparam("company_id"),
        contact_list_members.c.contact_id == sa.bindparam("contact_id"),
    )
)
_OPEN_LOAD = Query(
    sa.select(conversations.c.assignee_id, sa.func.count().label("n"))
    .where(
        conversations.c.company_id == sa.bindparam("company_id"),
        in_list(conversations.c.assignee_id, "keys"),
        conversations.c.state == "open",
        conversations.c.merged_into_id.is_(None),
    )
    .group_by(conversations.c.assignee_id)
)
_RECIPIENTS = Query(
    sa.select(message_recipients)
    .where(
        message_recipients.c.company_id == sa.bindparam("company_id"),
        message_recipients.c.message_id == sa.bindparam("key"),
    )
    .order_by(message_recipients.c.position)
)


async def inboxes_of_conversation(conn: Reader, *, company_id: int, key: int) -> list[Row]:
    """The inboxes the conversation is in: id, team_id, owner_teammate_id."""
    return await conn.fetch_all(_CONV_INBOXES, company_id=company_id, conv=key)


async def latest_inbound(conn: Reader, *, company_id: int, conversation_id: int) -> Row | None:
    return await conn.fetch_one(_LATEST_INBOUND, company_id=company_id, conv=conversation_id)


async def recipients(conn: Reader, *, company_id: int, message_id: int) -> list[Row]:
    return await conn.fetch_all(_RECIPIENTS, company_id=company_id, key=message_id)


async def lists_of_contact(conn: Reader, *, company_id: int, contact_id: int) -> set[int]:
    rows = await conn.fetch_all(_LISTS_OF, company_id=company_id, contact_id=contact_id)
    return {int(x["list_id"]) for x in rows}


async def open_load(conn: Reader, *, company_id: int, keys: list[int]) -> dict[int, int]:
    """How many open conversations each of these teammates is assigned."""
    rows = await conn.fetch_all(_OPEN_LOAD, company_id=company_id, keys=keys)
    return {int(x["assignee_id"]): int(x["n"]) for x in rows}


_EVENT = Query(
    sa.select(events).where(
        events.c.company_id == sa.bindparam("company_id"), events.c.id == sa.bindparam("key")
    )
)


async def event(conn: Reader, *, company_id: int, key: int) -> Row | None:
    """One event row of the log (what armed a timer)."""
    return await conn.fetch_one(_EVENT, company_id=company_id, key=key)


async def arm_timer(
    tx: Connection, *, company_id: int, rule_id: int, conversation_id: int, event_id: int, due: int
) -> None:
    """Arm the rule's timer on the conversation unless one is already waiting: "unreplied"
    counts from the first unanswered message. A timer that already fired is armed again."""
    found = await timer_of(tx, rule_id=rule_id, conversation_id=conversation_id)
    if found is not None and found["fired_at"] is None:
        return
    if found is not None:
        await tx.execute(_REARM, key=found["id"], due=due, event_id=event_id)
        return
    await tx.execute(
        _ARM,
        company_id=company_id,
        rule_id=rule_id,
        conv=conversation_id,
        event_id=event_id,
        due=due,
    )


_REARM = Query(
    sa.update(m)
    .where(m.c.id == sa.bindparam("key"))
    .values(
        due_at=sa.bindparam("due", type_=sa.BigInteger),
        event_id=sa.bindparam("event_id"),
        fired_at=None,
    )
)
_ARM = Query(
    sa.insert(m).values(
        company_id=sa.bindparam("company_id"),
        rule_id=sa.bindparam("rule_id"),
        conversation_id=sa.bindparam("conv"),
        event_id=sa.bindparam("event_id"),
        due_at=sa.bindparam("due", type_=sa.BigInteger),
    )
)


_VISIBLE = Query(sa.select(r).where(_live, owned_by_visible(r), _owner_scope()).order_by(r.c.id))
_VISIBLE_ONE = Query(sa.select(r).where(_live, owned_by_visible(r), r.c.id == sa.bindparam("key")))


async def visible(
    conn: Reader, *, company_id: int, vis: dict[str, Any], scope: str, owner: int | None
) -> list[Rule]:
    """The rules the token sees: ``scope`` all, company (no owner), team or teammate (with
    ``owner`` the team's or teammate's key)."""
    rows = await conn.fetch_all(
        _VISIBLE, company_id=company_id, scope=scope, owner=owner or 0, **vis
    )
    return [Rule.from_row(x) for x in rows]


# Rules named by events (their source), deleted ones too: an event outlives its rule.
_MANY_VISIBLE = Query(
    sa.select(r)
    .where(
        r.c.company_id == sa.bindparam("company_id"), in_list(r.c.id, "keys"), owned_by_visible(r)
    )
    .order_by(r.c.id)
)


async def many_visible(
    conn: Reader, *, company_id: int, keys: list[int], vis: dict[str, Any]
) -> list[Rule]:
    """The rules of ``keys`` the token sees, deleted or not."""
    if not keys:
        return []
    rows = await conn.fetch_all(_MANY_VISIBLE, company_id=company_id, keys=keys, **vis)
    return [Rule.from_row(x) for x in rows]


async def get_visible(
    conn: Reader, *, company_id: int, key: int, vis: dict[str, Any]
) -> Rule | None:
    row = await conn.fetch_one(_VISIBLE_ONE, company_id=company_id, key=key, **vis)
    return Rule.from_row(row) if row else None
