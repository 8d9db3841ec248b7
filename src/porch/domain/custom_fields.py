"""Custom fields: typed definitions per object type, and validation of the values written.

Values are read and written as an object keyed by the field's display name (Front's format).
A write replaces the whole map (fields left out are erased). Each value must match its field's
type (NOTES.md §9); anything else is a 400 naming the field. ``null`` clears a field.

Only a definition's name and description change after creation; its type never does. Because
values are keyed by display name, renaming a field rewrites the key on every row that holds a
value for it, and deleting a field removes the key, in the same transaction as the definition.
"""

from __future__ import annotations

from typing import Any

import orjson

from porch import ids
from porch.domain.errors import BadRequest, Conflict, not_found
from porch.domain.principal import Principal
from porch.events import log
from porch.store import crud
from porch.store import custom_fields as store
from porch.store import inboxes as inboxes_store
from porch.store import teammates as teammates_store
from porch.store.db import Connection, Database, Reader
from porch.store.tables import custom_fields as custom_fields_table
from porch.timeutil import now_ms


async def access_custom_field(conn: Reader, *, principal: Principal, ref: str) -> store.CustomField:
    """The custom field ``ref`` (``fld_...``) names in the caller's company; NotFound otherwise."""
    key = ids.decode(ids.CUSTOM_FIELD, ref)
    field = None
    if key is not None:
        field = await store.get(conn, company_id=principal.company_id, key=key)
    if field is None:
        raise not_found("custom field", ref)
    return field


async def definitions(
    conn: Reader, *, principal: Principal, object_type: str
) -> list[store.CustomField]:
    return await store.of_type(conn, company_id=principal.company_id, object_type=object_type)


async def check_values(
    conn: Reader, *, principal: Principal, object_type: str, values: Any
) -> dict[str, Any]:
    """The normalised map to store for ``values``; BadRequest listing every wrong field."""
    if not isinstance(values, dict):
        raise BadRequest("custom_fields must be an object keyed by field name")
    fields = {
        f.name: f
        for f in await store.of_type(conn, company_id=principal.company_id, object_type=object_type)
    }
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


async def _check(conn: Reader, principal: Principal, field: store.CustomField, value: Any) -> Any:
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
    raise ValueError(
        f"unsupported field type {kind}"
    )  # pragma: no cover - types are checked on create


async def do_create_custom_field(
    db: Database,
    *,
    principal: Principal,
    object_type: str,
    name: str,
    type: str,
    description: str = "",
    values: list[dict[str, str]] | None = None,
) -> store.CustomField:
    """Define a custom field (Porch's admin API; Front's API only lists them)."""
    principal.require_provisioning()
    if object_type not in store.OBJECT_TYPES:
        raise BadRequest(f"object_type must be one of: {', '.join(store.OBJECT_TYPES)}")
    if type not in store.TYPES:
        raise BadRequest(f"type must be one of: {', '.join(store.TYPES)}")
    name = name.strip()
    if not name:
        raise BadRequest("A custom field needs a name")
    if type == "enum":
        if not values or any(not isinstance(v.get("value"), str) or not v["value"] for v in values):
            raise BadRequest("An enum field needs values, each with a non-empty value")
    elif values:
        raise BadRequest("Only enum fields take values")
    async with db.transaction() as tx:
        existing = await store.of_type(tx, company_id=principal.company_id, object_type=object_type)
        if any(f.name == name for f in existing):
            raise Conflict(f"A {object_type} custom field named {name!r} already exists")
        key = await crud.insert(
            tx,
            custom_fields_table,
            company_id=principal.company_id,
            object_type=object_type,
            name=name,
            description=description,
            type=type,
            enum_values=orjson.dumps(values).decode() if values else None,
            created_at=now_ms(),
        )
        await log.append(
            tx,
            company_id=principal.company_id,
            type="custom_field_created",
            source=log.source_of(principal),
            target_type="custom_field",
            target_id=key,
            data={"object_type": object_type, "name": name, "type": type},
        )
        field = await store.get(tx, company_id=principal.company_id, key=key)
    assert field is not None
    return field


def _clean_name(name: str) -> str:
    name = name.strip()
    if not name:
        raise BadRequest("A custom field needs a name")
    return name


async def do_update_custom_field(
    db: Database,
    *,
    principal: Principal,
    field: store.CustomField,
    name: str | None = None,
    description: str | None = None,
) -> store.CustomField:
    """Rename and/or redescribe a field; a rename moves every stored value to the new name.

    The new name must be free among the fields of the same object type (409 otherwise).
    """
    principal.require_provisioning()
    values: dict[str, object] = {}
    if name is not None:
        name = _clean_name(name)
        if name != field.name:
            values["name"] = name
    if description is not None and description != field.description:
        values["description"] = description
    async with db.transaction() as tx:
        if "name" in values:
            siblings = await store.of_type(
                tx, company_id=field.company_id, object_type=field.object_type
            )
            if any(f.name == name and f.id != field.id for f in siblings):
                raise Conflict(f"A {field.object_type} custom field named {name!r} already exists")
            await _rewrite_values(tx, field=field, new_name=str(name))
        if values:
            await crud.update(
                tx, custom_fields_table, company_id=field.company_id, key=field.id, **values
            )
            await log.append(
                tx,
                company_id=field.company_id,
                # Not Front's ``custom_field_updated``, which reports a value written on a
                # conversation: this is a change to the definition, a Porch kind.
                type="custom_field_definition_updated",
                source=log.source_of(principal),
                target_type="custom_field",
                target_id=field.id,
                data={"object_type": field.object_type, "previous_name": field.name, **values},
            )
        updated = await store.get(tx, company_id=field.company_id, key=field.id)
    assert updated is not None
    return updated


async def do_delete_custom_field(
    db: Database, *, principal: Principal, field: store.CustomField
) -> None:
    """Delete a field definition and every value stored under its name."""
    principal.require_provisioning()
    async with db.transaction() as tx:
        await _rewrite_values(tx, field=field, new_name=None)
        await crud.delete(tx, custom_fields_table, company_id=field.company_id, key=field.id)
        await log.append(
            tx,
            company_id=field.company_id,
            type="custom_field_deleted",
            source=log.source_of(principal),
            target_type="custom_field",
            target_id=field.id,
            data={"object_type": field.object_type, "name": field.name},
        )


async def _rewrite_values(
    tx: Connection, *, field: store.CustomField, new_name: str | None
) -> None:
    """Move the values stored under ``field``'s name to ``new_name`` (None: drop them)."""
    rows = await store.value_maps(tx, company_id=field.company_id, object_type=field.object_type)
    for key, current in rows:
        if field.name not in current:
            continue
        # Rebuild the map so the key keeps its place (clients show fields in stored order).
        rewritten: dict[str, Any] = {}
        for name, value in current.items():
            if name != field.name:
                rewritten[name] = value
            elif new_name is not None:
                rewritten[new_name] = value
        await store.set_value_map(
            tx,
            company_id=field.company_id,
            object_type=field.object_type,
            key=key,
            values=rewritten,
        )
