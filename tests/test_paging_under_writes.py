"""Paging through a thousand conversations while teammates archive and reopen others.

Lists are keyset-paged on (last activity, id), so a page token is a position, not an offset:
conversations archived meanwhile do not shift later pages, and ones reopened meanwhile (which
moves them to the top) are not returned a second time.
"""

from __future__ import annotations

import random
from typing import Any

from tests.conftest import Api, Company

TOTAL = 1000


def _pages(api: Api, path: str, params: dict[str, Any]) -> Any:
    body = api.ok("GET", path, params=params)
    for _ in range(TOTAL):
        yield [c["id"] for c in body["_results"]]
        nxt = body["_pagination"]["next"]
        if not nxt:
            return
        body = api.ok("GET", nxt[len(api.base_url) :])


def test_each_conversation_is_listed_exactly_once_while_others_are_archived(
    dunder_mifflin: Company,
) -> None:
    api = dunder_mifflin.api
    inbox = api.ok("POST", f"/teams/{dunder_mifflin.team_id}/inboxes", 201, json={"name": "Bulk"})
    made = [
        api.ok(
            "POST",
            "/conversations",
            201,
            json={"type": "task", "subject": f"Order {i}", "inbox_id": inbox["id"]},
        )["id"]
        for i in range(TOTAL)
    ]
    rng = random.Random(1000)
    seen: list[str] = []
    archived: set[str] = set()
    for page in _pages(api, "/conversations", {"limit": 37}):
        seen.extend(page)
        # Archive some the list has shown and some it has not reached yet; reopen some shown
        # ones, which makes them the most recent activity of all.
        for conv in rng.sample(made, 6):
            api.ok("PATCH", f"/conversations/{conv}", 204, json={"status": "archived"})
            archived.add(conv)
        for conv in rng.sample(seen, min(3, len(seen))):
            api.ok("PATCH", f"/conversations/{conv}", 204, json={"status": "open"})
            archived.discard(conv)
    assert len(seen) == len(set(seen)) == TOTAL
    assert set(seen) == set(made)

    # Filtered to open ones while archiving: none twice, and every conversation that stayed open
    # throughout is there.
    stayed_open = set(made) - archived
    touched: set[str] = set()
    shown: list[str] = []
    for page in _pages(
        api, f"/inboxes/{inbox['id']}/conversations", {"limit": 50, "q[statuses]": "unassigned"}
    ):
        shown.extend(page)
        for conv in rng.sample(sorted(stayed_open - touched), 5):
            api.ok("PATCH", f"/conversations/{conv}", 204, json={"status": "archived"})
            touched.add(conv)
    assert len(shown) == len(set(shown))
    assert stayed_open - touched <= set(shown)
    # Conversations archived before the second pass began never show in the open list.
    assert not set(shown) & archived
