"""Firing reminders: a snoozed conversation reopens when its reminder falls due.

Every API process runs the loop. Several processes may find the same due reminder; the claim
(``fired_at IS NULL`` in the UPDATE) lets exactly one of them fire it, and the reopen and the
``reminder`` event commit in that same transaction, so a reminder fires once. A reminder that
fell due while no process ran fires at the next start.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from porch.events import log
from porch.store import conversations as store
from porch.store import crud
from porch.store.db import Database
from porch.store.tables import conversations
from porch.timeutil import now_ms

logger = logging.getLogger("porch.reminders")

BATCH = 100
# Front's source for an event caused by a reminder.
REMINDER_SOURCE = log.Source("reminder", None)


async def fire_due(db: Database, now_ms: int) -> int:
    """Fire every reminder due at ``now_ms``; the number this call fired.

    Each reminder is one transaction: claim it, reopen its conversation (open again, with
    activity bumped) and append Front's ``reminder`` event.
    """
    fired = 0
    for _ in range(1000):  # bounded: at most 100 000 reminders per call
        due = await store.due_reminders(db, now=now_ms, limit=BATCH)
        if not due:
            break
        for row in due:
            async with db.transaction() as tx:
                if not await store.claim_reminder(tx, key=row["id"], now=now_ms):
                    continue
                conv = await store.get(tx, company_id=row["company_id"], key=row["conversation_id"])
                if conv is None:
                    continue
                values: dict[str, object] = {"updated_at": now_ms}
                if conv.state != "open":
                    values.update(state="open", activity_at=max(now_ms, conv.activity_at))
                await crud.update(
                    tx, conversations, company_id=conv.company_id, key=conv.id, **values
                )
                await log.append(
                    tx,
                    company_id=conv.company_id,
                    type="reminder",
                    source=REMINDER_SOURCE,
                    target_type="teammate",
                    target_id=row["teammate_id"],
                    conversation_id=conv.id,
                )
                fired += 1
        if len(due) < BATCH:
            break
    return fired


async def run_reminders(db: Database, stop_event: asyncio.Event, interval: float = 1.0) -> None:
    """Fire due reminders every ``interval`` seconds until ``stop_event`` is set.

    An error is logged and the loop goes on: a database hiccup must not stop reminders.
    """
    while not stop_event.is_set():
        try:
            await fire_due(db, _now())
        except Exception:
            logger.exception("firing reminders failed")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop_event.wait(), timeout=interval)


def _now() -> int:
    return now_ms()
