"""A CRM export's rows, and how they become the contacts they describe.

A ``Mapping`` names which columns hold handles (by source), the name, the description, the list
names, the account and custom fields. ``desired`` turns one row into a ``Desired`` contact,
normalised the way Porch stores it (email addresses lower-cased, phone numbers in E.164), with
custom field values converted to their field's type; a row that cannot be one raises
``RowError`` with the reason, and the sync reports it and goes on.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import phonenumbers

SOURCES = ("email", "phone", "twitter", "facebook", "intercom", "front_chat", "custom")


class RowError(Exception):
    """A row that cannot become a contact; the message says why."""


@dataclass(frozen=True, slots=True)
class Mapping:
    """Which columns become what. ``handles`` maps a handle source to its column; the first
    one (or ``key``) identifies the row's contact."""

    handles: dict[str, str]
    name: tuple[str, ...] = ()
    description: str | None = None
    lists: str | None = None
    list_separator: str = ";"
    custom_fields: dict[str, str] = field(default_factory=dict)
    account_domain: str | None = None
    account_name: str | None = None
    key: str | None = None

    def __post_init__(self) -> None:
        if not self.handles:
            raise ValueError("a mapping needs at least one handle column")
        unknown = set(self.handles) - set(SOURCES)
        if unknown:
            raise ValueError(f"unknown handle sources: {', '.join(sorted(unknown))}")
        if self.key is not None and self.key not in self.handles:
            raise ValueError(f"key {self.key!r} is not one of the handle sources")

    @property
    def key_source(self) -> str:
        return self.key or next(iter(self.handles))

    @classmethod
    def load(cls, path: Path) -> Mapping:
        """A mapping file (JSON): ``{"handles": {"email": "Email"}, "name": ["First", "Last"],
        "description": "Notes", "lists": "Segments", "custom_fields": {"Tier": "Plan"},
        "account": {"domain": "Website", "name": "Company"}}``."""
        data = json.loads(path.read_text())
        name = data.get("name") or ()
        account = data.get("account") or {}
        return cls(
            handles=dict(data["handles"]),
            name=(name,) if isinstance(name, str) else tuple(name),
            description=data.get("description"),
            lists=data.get("lists"),
            list_separator=data.get("list_separator", ";"),
            custom_fields=dict(data.get("custom_fields") or {}),
            account_domain=account.get("domain"),
            account_name=account.get("name"),
            key=data.get("key"),
        )

    @classmethod
    def guess(cls, columns: list[str]) -> Mapping:
        """A mapping from the usual column names of CRM exports (case and spacing ignored)."""
        by_name = {c.strip().lower().replace(" ", "_"): c for c in columns}

        def pick(*names: str) -> str | None:
            return next((by_name[n] for n in names if n in by_name), None)

        handles = {
            source: column
            for source, column in (
                ("email", pick("email", "email_address", "e-mail")),
                ("phone", pick("phone", "phone_number", "mobile")),
                ("twitter", pick("twitter")),
            )
            if column is not None
        }
        if not handles:
            raise ValueError("no email, phone or twitter column: give a --mapping file")
        name = pick("name", "full_name")
        first, last = pick("first_name", "firstname"), pick("last_name", "lastname")
        return cls(
            handles=handles,
            name=(name,) if name else tuple(c for c in (first, last) if c),
            description=pick("description", "notes"),
            lists=pick("lists", "segments", "tags"),
            account_domain=pick("company_domain", "domain", "website"),
            account_name=pick("company", "company_name", "account"),
        )


@dataclass(frozen=True, slots=True)
class Desired:
    """A contact as a row says it should be. ``None`` for what the mapping does not manage."""

    key: tuple[str, str]
    handles: tuple[tuple[str, str], ...]
    name: str | None
    description: str | None
    lists: tuple[str, ...] | None
    custom_fields: dict[str, Any]
    account: tuple[str, str] | None


def normalise(source: str, handle: str) -> str:
    """A handle as Porch stores it; RowError when it cannot be one."""
    handle = handle.strip()
    if source == "email":
        handle = handle.lower()
        local, at, domain = handle.rpartition("@")
        if not at or not local or "." not in domain or " " in handle:
            raise RowError(f"{handle!r} is not an email address")
        return handle
    if source == "phone":
        try:
            number = phonenumbers.parse(handle, None if handle.startswith("+") else "US")
        except phonenumbers.NumberParseException as exc:
            raise RowError(f"{handle!r} is not a phone number") from exc
        if not phonenumbers.is_possible_number(number):
            raise RowError(f"{handle!r} is not a phone number")
        return str(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164))
    return handle


def _value(kind: str, raw: str, name: str) -> Any:
    """A custom field value of ``kind`` from its text; RowError when it is not one."""
    if kind in ("string", "enum", "teammate", "inbox"):
        return raw
    if kind == "number":
        try:
            return int(raw) if raw.lstrip("-").isdigit() else int(float(raw))
        except ValueError as exc:
            raise RowError(f"custom field {name!r}: {raw!r} is not a number") from exc
    if kind == "boolean":
        if raw.lower() in ("true", "yes", "1", "y"):
            return True
        if raw.lower() in ("false", "no", "0", "n"):
            return False
        raise RowError(f"custom field {name!r}: {raw!r} is not true or false")
    if kind == "datetime":
        try:
            return int(float(raw))
        except ValueError:
            pass
        try:
            moment = datetime.fromisoformat(raw)
        except ValueError as exc:
            raise RowError(f"custom field {name!r}: {raw!r} is not a date") from exc
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        return int(moment.timestamp())
    return raw


def desired(row: dict[str, str], mapping: Mapping, field_types: dict[str, str]) -> Desired:
    """The contact ``row`` describes (see the module)."""

    def cell(column: str | None) -> str:
        return (row.get(column) or "").strip() if column else ""

    handles = []
    for source, column in mapping.handles.items():
        text = cell(column)
        if text:
            handles.append((source, normalise(source, text)))
    key_text = cell(mapping.handles[mapping.key_source])
    if not key_text:
        raise RowError(f"no {mapping.key_source} (column {mapping.handles[mapping.key_source]!r})")
    key = (mapping.key_source, normalise(mapping.key_source, key_text))
    name = " ".join(p for p in (cell(c) for c in mapping.name) if p) if mapping.name else None
    fields: dict[str, Any] = {}
    for field_name, column in mapping.custom_fields.items():
        text = cell(column)
        if not text:
            continue
        kind = field_types.get(field_name)
        if kind is None:
            raise RowError(f"no contact custom field is named {field_name!r}")
        fields[field_name] = _value(kind, text, field_name)
    lists = None
    if mapping.lists:
        lists = tuple(
            sorted(
                {n.strip() for n in cell(mapping.lists).split(mapping.list_separator) if n.strip()}
            )
        )
    account = None
    domain = cell(mapping.account_domain).lower()
    if domain:
        domain = domain.removeprefix("https://").removeprefix("http://").removeprefix("www.")
        account = (domain.split("/", 1)[0], cell(mapping.account_name) or domain)
    return Desired(
        key=key,
        handles=tuple(handles),
        name=name or None if mapping.name else None,
        description=cell(mapping.description) or None if mapping.description else None,
        lists=lists,
        custom_fields=fields,
        account=account,
    )


def read_rows(path: Path) -> Iterator[dict[str, str]]:
    """The rows of a CSV file (a header row first) or of a JSON-lines file (``.jsonl``,
    ``.ndjson``: one object per line), as text."""
    if path.suffix.lower() in (".jsonl", ".ndjson", ".json"):
        with path.open(encoding="utf-8") as f:
            for line in f:
                if line.strip():
                    obj = json.loads(line)
                    yield {str(k): "" if v is None else str(v) for k, v in obj.items()}
        return
    with path.open(newline="", encoding="utf-8-sig") as f:
        yield from csv.DictReader(f)


def columns_of(path: Path) -> list[str]:
    """The column names of a file (a CSV header, or the keys of a JSON-lines file's first row)."""
    for row in read_rows(path):
        return list(row)
    return []
