"""What a search selects (``Criteria``), resolved to keys, and its bind parameters."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

HANDLE_ROLES = {
    "from": ("from",),
    "to": ("to", "cc", "bcc"),
    "cc": ("cc",),
    "bcc": ("bcc",),
    "recipient": ("from", "to", "cc", "bcc", "reply-to"),
}


@dataclass(frozen=True, slots=True)
class Criteria:
    """What a search selects, resolved to keys; empty means "no such filter".

    Values of one filter are alternatives (OR); different filters all apply (AND).
    """

    # Words and phrases: every one must occur in the document.
    text: tuple[str, ...] = ()
    # Stored-state family of is: (open, archived, snoozed, trashed); empty: open or archived.
    states: frozenset[str] = frozenset()
    # True: assigned, False: unassigned, None: either.
    assigned: bool | None = None
    unreplied: bool = False
    ticket_categories: tuple[str, ...] = ()
    inboxes: tuple[int, ...] = ()
    tags: tuple[int, ...] = ()
    assignees: tuple[int, ...] = ()
    participants: tuple[int, ...] = ()
    authors: tuple[int, ...] = ()
    mentions: tuple[int, ...] = ()
    commenters: tuple[int, ...] = ()
    contacts: tuple[int, ...] = ()
    links: tuple[int, ...] = ()
    # (field name, JSON texts the stored value may have), one per custom_field: filter.
    custom_fields: tuple[tuple[str, tuple[str, ...]], ...] = ()
    # Handle filter name (from, to, cc, bcc, recipient) -> handles.
    handles: tuple[tuple[str, tuple[str, ...]], ...] = ()
    # Last activity in ms: before the latest ``before``, after the earliest ``after``, within
    # one of the ``during`` [start, end) ranges.
    before: int | None = None
    after: int | None = None
    during: tuple[tuple[int, int], ...] = ()

    def shape(self) -> tuple[Any, ...]:
        """What the SQL depends on (not the values): the cache key of the compiled query."""
        return (
            bool(self.text),
            self.states,
            self.assigned,
            self.unreplied,
            bool(self.ticket_categories),
            bool(self.inboxes),
            bool(self.tags),
            bool(self.assignees),
            bool(self.participants),
            bool(self.authors),
            bool(self.mentions),
            bool(self.commenters),
            bool(self.contacts),
            bool(self.links),
            len(self.custom_fields),
            tuple(name for name, _ in self.handles),
            self.before is not None,
            self.after is not None,
            len(self.during),
        )

    def params(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "ticket_categories": list(self.ticket_categories),
            "inboxes": list(self.inboxes),
            "tags": list(self.tags),
            "assignees": list(self.assignees),
            "participants": list(self.participants),
            "authors": list(self.authors),
            "mentions": list(self.mentions),
            "commenters": list(self.commenters),
            "contacts": list(self.contacts),
            "links": list(self.links),
            "before": self.before,
            "after_ms": self.after,
        }
        for i, (name, values) in enumerate(self.custom_fields):
            out[f"cf_name_{i}"] = name
            out[f"cf_path_{i}"] = f'$."{name}"'
            out[f"cf_values_{i}"] = list(values)
        for name, handles in self.handles:
            out[f"h_{name}"] = list(handles)
        for i, (start, end) in enumerate(self.during):
            out[f"d_start_{i}"] = start
            out[f"d_end_{i}"] = end
        return out
