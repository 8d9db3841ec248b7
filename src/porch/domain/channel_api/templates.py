"""Application message templates a partner syncs onto its channel."""

from __future__ import annotations

from typing import Any

import orjson

from porch.domain.channel_api.partner import check_partner
from porch.domain.errors import BadRequest, not_found
from porch.domain.principal import Principal
from porch.events import log
from porch.store import channel_api as store
from porch.store import crud
from porch.store.channels import Channel
from porch.store.db import Database
from porch.store.tables import application_message_templates
from porch.timeutil import now_ms

TEMPLATE_FIELDS = (
    "name",
    "blurb",
    "is_disabled",
    "status_name",
    "variable_mappings",
    "template_preview",
)


def _template_values(fields: dict[str, Any]) -> dict[str, Any]:
    out = {k: v for k, v in fields.items() if k in TEMPLATE_FIELDS}
    if "variable_mappings" in out:
        out["variable_mappings"] = orjson.dumps(out["variable_mappings"]).decode()
    return out


async def do_sync_template(
    db: Database,
    *,
    principal: Principal,
    channel: Channel,
    external_id: str,
    fields: dict[str, Any],
) -> int:
    """Create or replace the channel's template ``external_id``; its key (``template_id``)."""
    await check_partner(db, channel=channel)
    if not external_id.strip():
        raise BadRequest("external_id cannot be blank")
    now = now_ms()
    values = _template_values(fields)
    async with db.transaction() as tx:
        found = await store.template(
            tx, company_id=principal.company_id, channel_id=channel.id, external_id=external_id
        )
        if found is None:
            key = await crud.insert(
                tx,
                application_message_templates,
                company_id=principal.company_id,
                channel_id=channel.id,
                external_id=external_id,
                created_at=now,
                updated_at=now,
                **values,
            )
        else:
            key = found.id
            await crud.update(
                tx,
                application_message_templates,
                company_id=principal.company_id,
                key=key,
                updated_at=now,
                **values,
            )
        await log.append(
            tx,
            company_id=principal.company_id,
            type="application_message_template_synced",
            source=log.source_of(principal),
            target_type="channel",
            target_id=channel.id,
            data={"external_id": external_id, "template_id": key},
        )
    return key


async def do_update_template(
    db: Database,
    *,
    principal: Principal,
    channel: Channel,
    external_id: str,
    fields: dict[str, Any],
) -> int:
    """Change the fields sent of the channel's template ``external_id`` (404 if unknown)."""
    await check_partner(db, channel=channel)
    async with db.transaction() as tx:
        found = await store.template(
            tx, company_id=principal.company_id, channel_id=channel.id, external_id=external_id
        )
        if found is None:
            raise not_found("application message template", external_id)
        values = _template_values(fields)
        if values:
            await crud.update(
                tx,
                application_message_templates,
                company_id=principal.company_id,
                key=found.id,
                updated_at=now_ms(),
                **values,
            )
            await log.append(
                tx,
                company_id=principal.company_id,
                type="application_message_template_updated",
                source=log.source_of(principal),
                target_type="channel",
                target_id=channel.id,
                data={"external_id": external_id, "fields": sorted(values)},
            )
    return found.id
