"""Custom fields: typed definitions per object type, and validation of the values written.

Values are read and written as an object keyed by the field's display name (Front's format).
A write replaces the whole map (fields left out are erased). Each value must match its field's
type (NOTES.md §9); anything else is a 400 naming the field. ``null`` clears a field.
"""

from __future__ import annotations

from typing import Any

from porch import ids
from porch.domain.errors import BadRequest
from porch.domain.principal import Principal
from porch.store import custom_fields as store
from porch.store import inboxes as inboxes_store
from porch.store import teammates as teammates_store
from porch.store.db import Connection


async def definitions(conn: Connection, *, principal: Principal, object_type: str) -> list[store.CustomField]:
    return await store.of_type(conn, company_id=principal.company_id, object_type=object_type)


async def check_values(
    conn: Connection, *, principal: Principal, object_type: str, values: Any
) -> dict[str, Any]:
    """The normalised map to store for ``values``; BadRequest listing every wrong field."""
    if not isinstance(values, dict):
        raise BadRequest("custom_fields must be an object keyed by field name")
    fields = {f.name: f for f in await store.of_type(conn, company_id=principal.company_id,
                                                     object_type=object_type)}
    out: dict[str, Any] = {}
    problems: list[str] = []
    for name, value in values.items():
        field = fields.get(name)
        if field is None:
            problems.append(f"{name}: no {object_type} custom field has this name")
            continue
        if value is None:
            continue
        try:
            out[name] = await _check(conn, principal, field, value)
        except ValueError as exc:
            problems.append(f"{name}: {exc}")
    if problems:
        raise BadRequest("Invalid custom fields", details=problems)
    return out


async def _check(conn: Connection, principal: Principal, field: store.CustomField, value: Any) -> Any:
    kind = field.type
    if kind == "string":
        if not isinstance(value, str) or "\x00" in value or len(value) > 10_000:
            raise ValueError("expected a string")
        return value
    if kind == "boolean":
        if not isinstance(value, bool):
            raise ValueError("expected true or false")
        return value
    if kind in ("number", "datetime"):
        if isinstance(value, bool) or not isinstance(value, int | float) or value != value:
            raise ValueError("expected a number" if kind == "number" else "expected epoch seconds")
        if abs(value) > 2**53:
            raise ValueError("number out of range")
        return value
    if kind == "enum":
        allowed = [v.get("value") for v in field.values or []]
        if value not in allowed:
            raise ValueError(f"expected one of {allowed}")
        return value
    if kind == "teammate":
        if not isinstance(value, str):
            raise ValueError("expected a teammate's email")
        found = await teammates_store.by_email(conn, company_id=principal.company_id, email=value)
        if found is None:
            raise ValueError(f"no teammate has the email {value!r}")
        return found.email
    if kind == "inbox":
        key = ids.decode(ids.INBOX, value) if isinstance(value, str) else None
        inbox = None
        if key is not None:
            inbox = await inboxes_store.get_visible(
                conn, company_id=principal.company_id, key=key, vis=principal.visibility()
            )
        if inbox is None:
            raise ValueError("expected the id of an inbox")
        return ids.encode(ids.INBOX, inbox.id)
    raise ValueError(f"unsupported field type {kind}")  # pragma: no cover - types are checked on create
