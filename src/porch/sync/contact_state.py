"""What the contact sync keeps: a run's summary, a contact's snapshot (what Porch holds of it, as
far as the sync manages it), the changes a row needs on one, and the state file that carries the
snapshots and a run's progress from one run to the next."""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from porch.sync.rows import Desired


@dataclass
class Failure:
    row: int
    key: str
    reason: str


@dataclass
class Summary:
    """What a run did (or, dry, would do)."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0
    failed: int = 0
    skipped: int = 0
    # Handles a row names that another contact holds (a shared phone number, say): the row's
    # contact is written without them, and each is reported.
    left_out: int = 0
    failures: list[Failure] = field(default_factory=list)

    @property
    def done(self) -> int:
        return self.created + self.updated + self.unchanged + self.failed + self.skipped


@dataclass
class Snapshot:
    """What Porch holds of a contact, as far as the sync manages it."""

    id: str
    handles: list[list[str]]
    name: str | None
    description: str | None
    lists: list[str]
    custom_fields: dict[str, Any]
    account: str | None = None

    @classmethod
    def of(cls, contact: dict[str, Any], account: str | None = None) -> Snapshot:
        return cls(
            id=str(contact["id"]),
            handles=[[str(h["source"]), str(h["handle"])] for h in contact.get("handles") or []],
            name=contact.get("name"),
            description=contact.get("description"),
            lists=sorted(str(g["name"]) for g in contact.get("lists") or []),
            custom_fields=dict(contact.get("custom_fields") or {}),
            account=account,
        )


@dataclass
class Changes:
    """The writes a row needs on an existing contact."""

    patch: dict[str, Any]
    handles: list[tuple[str, str]]
    account: tuple[str, str] | None

    def __bool__(self) -> bool:
        return bool(self.patch or self.handles or self.account)


def changes(want: Desired, have: Snapshot) -> Changes:
    """What differs between the row and the contact (only what the mapping manages)."""
    patch: dict[str, Any] = {}
    if want.name is not None and want.name != have.name:
        patch["name"] = want.name
    if want.description is not None and want.description != have.description:
        patch["description"] = want.description
    merged = {**have.custom_fields, **want.custom_fields}
    if merged != have.custom_fields:
        # A write replaces the whole map: keep the fields the export does not manage.
        patch["custom_fields"] = merged
    if want.lists is not None and sorted(want.lists) != have.lists:
        patch["list_names"] = list(want.lists)
    held = {(s, h) for s, h in have.handles}
    missing = [h for h in want.handles if h not in held]
    account = want.account if want.account and want.account[0] != have.account else None
    return Changes(patch, missing, account)


class State:
    """The state file: what the last run saw and wrote, and how far a run has got."""

    def __init__(self, path: Path | None, base_url: str) -> None:
        self.path = path
        self.base_url = base_url
        self.cursor: float | None = None
        self.contacts: dict[str, Snapshot] = {}
        self.source: str | None = None
        # Rows are numbered from 1; every row below ``done_below`` is done.
        self.done_below = 1
        self.done: set[int] = set()
        if path is not None and path.exists():
            data = json.loads(path.read_text())
            if data.get("base_url") == base_url:
                self.cursor = data.get("cursor")
                self.contacts = {k: Snapshot(**v) for k, v in data["contacts"].items()}
        progress = self._progress_path()
        if progress is not None and progress.exists():
            data = json.loads(progress.read_text())
            self.source = data.get("source")
            self.done_below = int(data.get("below", 1))
            self.done = set(data.get("done", []))

    def _progress_path(self) -> Path | None:
        return self.path.with_name(self.path.name + ".progress") if self.path else None

    def resumes(self, source: str | None) -> bool:
        return source is not None and source == self.source

    def mark(self, row: int) -> None:
        self.done.add(row)
        while self.done_below in self.done:
            self.done.discard(self.done_below)
            self.done_below += 1

    def is_done(self, row: int) -> bool:
        return row < self.done_below or row in self.done

    def save_progress(self, source: str | None) -> None:
        progress = self._progress_path()
        if progress is None:
            return
        body = {"source": source, "below": self.done_below, "done": sorted(self.done)}
        _write(progress, json.dumps(body))

    def save(self, cursor: float | None) -> None:
        """The run is over: record what it saw and wrote, and forget its progress."""
        if self.path is None:
            return
        body = {
            "version": 1,
            "base_url": self.base_url,
            "cursor": cursor,
            "contacts": {k: asdict(v) for k, v in self.contacts.items()},
        }
        _write(self.path, json.dumps(body))
        progress = self._progress_path()
        if progress is not None:
            progress.unlink(missing_ok=True)


def _write(path: Path, text: str) -> None:
    """Replace ``path`` whole (a crash leaves the old or the new file, never half of one)."""
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text)
    os.replace(tmp, path)
