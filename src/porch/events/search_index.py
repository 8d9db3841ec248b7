"""The ``search_index`` consumer: keeps the full-text documents of conversations current.

It follows the event log (porch.events.consumer) rather than being called by the actions, so a
write never waits for indexing and an index that fell behind (or was lost) catches up from the
log. For each batch it re-reads, from the rows, the document of every conversation an event
names, which is idempotent and needs no knowledge of what exactly changed.
"""

from __future__ import annotations

import orjson

from porch import ids
from porch.events import consumer
from porch.store import statistics
from porch.store.db import Connection, Database, Row
from porch.store.search import index as store

NAME = "search_index"
# Events that name a conversation without changing its text: no need to rebuild its document.
_TEXT_UNCHANGED = frozenset(
    [
        "assign",
        "unassign",
        "archive",
        "reopen",
        "trash",
        "restore",
        "reminder",
        "tag",
        "untag",
        "link_added",
        "link_removed",
        "custom_field_updated",
        "ticket_status_update",
        "mention",
        "conversation_spammed",
        "draft_created",
        "draft_updated",
        "draft_deleted",
        "sending_error",
    ]
)
REBUILD_BATCH = 1000


def affected(events: list[Row]) -> list[int]:
    """Keys of the conversations whose documents ``events`` may have changed."""
    keys: set[int] = set()
    for e in events:
        if e["conversation_id"] is None or e["type"] in _TEXT_UNCHANGED:
            continue
        keys.add(int(e["conversation_id"]))
        if e["type"] == "conversations_merged":
            # The merged-away conversations lose their documents (their messages moved).
            keys.update(_merged_keys(e["data"]))
    return sorted(keys)


def _merged_keys(data: str | None) -> list[int]:
    """The conversation keys of a merge event's data (encoded ids or keys; junk ignored, so
    that one odd event never stops the index)."""
    try:
        loaded = orjson.loads(data or "{}")
    except orjson.JSONDecodeError:
        return []
    found = loaded.get("deleted_conversation_ids", []) if isinstance(loaded, dict) else []
    out = []
    for ref in found if isinstance(found, list) else []:
        key = ids.decode(ids.CONVERSATION, ref) if isinstance(ref, str) else ref
        if isinstance(key, int) and not isinstance(key, bool):
            out.append(key)
    return out


class SearchIndex:
    """The consumer object the runner drives."""

    name = NAME

    async def apply(self, tx: Connection, events: list[Row]) -> None:
        await store.reindex(tx, keys=affected(events))


async def rebuild(db: Database, *, company_id: int | None = None) -> int:
    """(Re)index every conversation (of one company, or all) from its rows; how many.

    Runs in batches of conversations, each its own set-based transaction, so it suits a bulk
    load. A full rebuild also drops documents of conversations that no longer exist, and moves
    the consumer past the events logged before it started (their effects are in the rebuilt
    documents), so it does not redo the work. It ends by refreshing the planner's statistics,
    as a bulk load leaves them stale.
    """
    start_event = await consumer.last_event_id(db)
    done = 0
    after = 0
    while True:
        keys = await store.conversation_keys(
            db, company_id=company_id, after=after, limit=REBUILD_BATCH
        )
        if not keys:
            break
        async with db.transaction() as tx:
            await store.reindex(tx, keys=keys)
        done += len(keys)
        after = keys[-1]
    async with db.transaction() as tx:
        await statistics.refresh(tx)
    if company_id is None:
        async with db.transaction() as tx:
            await store.remove_orphans(tx)
            if await consumer.position(tx, name=NAME) < start_event:
                await consumer.save_position(tx, name=NAME, position=start_event)
    return done
