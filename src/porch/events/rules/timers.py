"""Firing time-based rule triggers ("unreplied for N minutes") when they fall due.

Every ``porch serve`` process runs the loop. A due timer is claimed with a conditional update
(``fired_at IS NULL``) in the transaction that runs the rule and writes its run row, so it
fires exactly once with any number of processes, and a timer that fell due while no process ran
fires at the next start.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from porch.events.rules.engine import definition_of, in_scope, run_rule
from porch.store import conversations as conversations_store
from porch.store import rules as store
from porch.store.db import Database
from porch.timeutil import now_ms

logger = logging.getLogger("porch.rules")

BATCH = 100
POLL_SECONDS = 5.0


async def fire_due(db: Database, now: int) -> int:
    """Fire every timer due at ``now`` (ms); the number of rule runs this call made."""
    fired = 0
    for _ in range(1000):  # bounded: at most 100 000 timers per call
        due = await store.due_timers(db, now=now, limit=BATCH)
        for row in due:
            async with db.transaction() as tx:
                if not await store.claim_timer(tx, key=row["id"], now=now):
                    continue
                company_id = row["company_id"]
                rule = await store.get(tx, company_id=company_id, key=row["rule_id"])
                conv = await conversations_store.get(
                    tx, company_id=company_id, key=row["conversation_id"]
                )
                event = await store.event(tx, company_id=company_id, key=row["event_id"])
                if rule is None or not rule.is_enabled or conv is None or event is None:
                    continue
                if conv.merged_into_id is not None or conv.state == "trashed":
                    continue
                inboxes = await store.inboxes_of_conversation(
                    tx, company_id=company_id, key=conv.id
                )
                if not in_scope(rule, inboxes):
                    continue
                if await store.has_run(tx, rule_id=rule.id, event_id=event["id"], kind="timer"):
                    continue
                await run_rule(
                    tx,
                    rule=rule,
                    definition=definition_of(rule),
                    conv=conv,
                    event=event,
                    kind="timer",
                    depth=0,
                    at=now,
                    memory=rule.memory,
                )
                fired += 1
        if len(due) < BATCH:
            break
    return fired


async def run_rule_timers(
    db: Database, stop_event: asyncio.Event, interval: float = POLL_SECONDS
) -> None:
    """Fire due rule timers every ``interval`` seconds until ``stop_event`` is set; an error is
    logged and the loop goes on."""
    while not stop_event.is_set():
        try:
            await fire_due(db, now_ms())
        except Exception:
            logger.exception("firing rule timers failed")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop_event.wait(), timeout=interval)
