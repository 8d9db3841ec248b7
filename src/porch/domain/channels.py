"""Channels: the addresses an inbox sends and receives on.

A channel belongs to one inbox and is visible exactly when its inbox is. The API creates three
types (Front's enum for ``POST /inboxes/{id}/channels``): ``smtp`` (an email address),
``twilio`` (a phone number) and ``custom`` (messages pushed through the API, replies posted to
an optional webhook). Addresses are unique in a company, compared case-insensitively; a custom
channel gets a generated address, as it has none of its own.

Settings are stored as one JSON object; Front shows only ``undo_send_time`` and (for shared
channels) ``all_teammates_can_reply``. ``webhook_url`` belongs to custom channels; ``sid`` and
``auth_token`` to Twilio channels; ``application_uid`` and ``credentials`` to application
channels (custom channels bound to a developer app).
"""

from __future__ import annotations

import re
import secrets
from typing import Any
from urllib.parse import urlsplit

import orjson

from porch import ids
from porch.domain import partner_channels as partners
from porch.domain import refs
from porch.domain.errors import BadRequest, Conflict, not_found
from porch.domain.inboxes import access_inbox
from porch.domain.principal import Principal
from porch.domain.teammates import check_email
from porch.events import log
from porch.store import channels as store
from porch.store import crud
from porch.store import inboxes as inboxes_store
from porch.store.db import Database, Reader
from porch.store.inboxes import Inbox
from porch.store.tables import channels as channels_table
from porch.timeutil import now_ms

TYPES = ("custom", "smtp", "twilio")
UNDO_SEND_TIMES = (0, 5, 10, 15, 30, 60)
# A custom channel's generated address: unique, and in a domain that can never receive mail.
CUSTOM_DOMAIN = "channels.porch.invalid"
_PHONE = re.compile(r"\+?[0-9]{7,15}")
_PHONE_PUNCTUATION = str.maketrans("", "", " -.()")


async def access_channel(conn: Reader, *, principal: Principal, ref: str) -> store.Channel:
    """The channel ``ref`` (``cha_…`` or ``alt:address:…``) names, if the token sees it."""
    address = refs.alias(ref, "address")
    found = None
    if address is not None:
        found = await store.by_address(
            conn, company_id=principal.company_id, address=address, vis=principal.visibility()
        )
    else:
        key = ids.decode(ids.CHANNEL, ref)
        if key is not None:
            found = await store.get_visible(
                conn, company_id=principal.company_id, key=key, vis=principal.visibility()
            )
    if found is None:
        raise not_found("channel", ref)
    return found


async def access_channels(
    conn: Reader, *, principal: Principal, refs_: list[str]
) -> list[store.Channel]:
    """Every channel of a list of references; an unknown one is a 404 naming it."""
    return [await access_channel(conn, principal=principal, ref=r) for r in refs_]


async def list_visible(conn: Reader, *, principal: Principal) -> list[store.Channel]:
    return await store.all_visible(
        conn, company_id=principal.company_id, vis=principal.visibility()
    )


async def list_of_inbox(conn: Reader, *, principal: Principal, inbox: Inbox) -> list[store.Channel]:
    return await store.of_inbox(
        conn, company_id=principal.company_id, inbox_id=inbox.id, vis=principal.visibility()
    )


async def list_of_team(conn: Reader, *, principal: Principal, team_id: int) -> list[store.Channel]:
    """The channels of the team's inboxes."""
    return await store.of_team(
        conn, company_id=principal.company_id, team_id=team_id, vis=principal.visibility()
    )


async def list_of_teammate(
    conn: Reader, *, principal: Principal, teammate_id: int
) -> list[store.Channel]:
    """The channels of the inboxes a teammate reaches (access or ownership) that the token sees."""
    vis = principal.visibility()
    inboxes = await inboxes_store.of_teammate(
        conn, company_id=principal.company_id, teammate_id=teammate_id, vis=vis
    )
    if not inboxes:
        return []
    return await store.of_inboxes(
        conn, company_id=principal.company_id, inbox_ids=[i.id for i in inboxes], vis=vis
    )


def check_webhook_url(url: str) -> str:
    """``url`` if it is an absolute http(s) URL; BadRequest otherwise."""
    try:
        parts = urlsplit(url)
    except ValueError as exc:
        raise BadRequest(f"webhook_url is not a URL: {url!r}") from exc
    if parts.scheme not in ("http", "https") or not parts.hostname or any(c.isspace() for c in url):
        raise BadRequest("webhook_url must be an absolute http or https URL")
    return url


def _phone(value: str) -> str:
    compact = value.strip().translate(_PHONE_PUNCTUATION)
    if not _PHONE.fullmatch(compact):
        raise BadRequest(f"send_as must be a phone number for a twilio channel, not {value!r}")
    return compact


def check_settings(
    settings: dict[str, Any], *, type: str, shared: bool, creating: bool
) -> dict[str, Any]:
    """The settings to store from those sent, validated for a channel of ``type``."""
    out: dict[str, Any] = {}
    problems: list[str] = []
    for name, value in settings.items():
        if value is None:
            problems.append(f"settings.{name} cannot be null")
        elif name == "undo_send_time":
            if value not in UNDO_SEND_TIMES or isinstance(value, bool):
                allowed = ", ".join(map(str, UNDO_SEND_TIMES))
                problems.append(f"settings.undo_send_time must be one of {allowed}")
            out[name] = value
        elif name == "all_teammates_can_reply":
            if not shared:
                problems.append("settings.all_teammates_can_reply is only for shared channels")
            out[name] = value
        elif name == "webhook_url":
            if type != "custom":
                problems.append("settings.webhook_url is only for custom channels")
            else:
                out[name] = check_webhook_url(value)
        elif name in ("sid", "auth_token"):
            if type != "twilio" or not creating:
                problems.append(f"settings.{name} can only be set when creating a twilio channel")
            out[name] = value
    if problems:
        raise BadRequest("Invalid channel settings", details=problems)
    return out


def is_complete(ch_type: str, send_as: str | None, settings: dict[str, Any]) -> bool:
    """Whether a channel has what it needs to be valid: a sending address for SMTP, somewhere
    to deliver replies (a webhook or an application) for custom channels, an account for
    Twilio."""
    if ch_type == "smtp":
        return bool(send_as)
    if ch_type == "custom":
        return bool(settings.get("webhook_url") or settings.get("application_uid"))
    if ch_type == "twilio":
        return bool(send_as and settings.get("sid") and settings.get("auth_token"))
    return False


async def do_create_channel(
    db: Database,
    *,
    principal: Principal,
    inbox: Inbox,
    type: str,
    name: str | None = None,
    send_as: str | None = None,
    settings: dict[str, Any] | None = None,
    application_uid: str | None = None,
    credentials: dict[str, Any] | None = None,
) -> int:
    """Create a channel in ``inbox`` and return its key (Front answers 204, without the id).

    A duplicate address is a 409. Channels start invalid; ``do_validate_channel`` marks them
    valid once their settings are complete.
    """
    if type not in TYPES:
        raise BadRequest(f"type must be one of: {', '.join(TYPES)}")
    if name is not None and not name.strip():
        raise BadRequest("A channel name cannot be blank")
    shared = not inbox.is_private
    stored = check_settings(settings or {}, type=type, shared=shared, creating=True)
    partner: tuple[int, str] | None = None
    if type == "custom":
        if send_as is not None:
            raise BadRequest("send_as is only for smtp and twilio channels")
        address = f"custom-{secrets.token_hex(8)}@{CUSTOM_DOMAIN}"
        if application_uid is not None:
            if not application_uid.strip():
                raise BadRequest("application_uid cannot be blank")
            # A partner channel: the webhook_url sent is the app's channel base URL, where
            # authorization goes; the partner's reply names the channel's own webhook_url.
            app_key, base_url = await partners.application_for(
                db,
                company_id=principal.company_id,
                uid=application_uid,
                base_url=stored.pop("webhook_url", None),
            )
            partner = (app_key, base_url)
            stored["application_uid"] = application_uid
            if credentials is not None:
                stored["credentials"] = credentials
        elif credentials is not None:
            raise BadRequest("credentials are only used with application_uid")
    else:
        if application_uid is not None or credentials is not None:
            raise BadRequest("application_uid and credentials are only for custom channels")
        if not send_as:
            raise BadRequest(f"send_as is required for {type} channels")
        if type == "smtp":
            # send_as keeps the casing the client gave; the address compares lower-cased.
            address = check_email(send_as)
            send_as = send_as.strip()
        else:
            send_as = address = _phone(send_as)
    stored.setdefault("undo_send_time", 0)
    if shared:
        stored.setdefault("all_teammates_can_reply", False)
    async with db.transaction() as tx:
        if await store.address_taken(tx, company_id=principal.company_id, address=address):
            raise Conflict(f"A channel with the address {address!r} already exists")
        key = await crud.insert(
            tx,
            channels_table,
            company_id=principal.company_id,
            inbox_id=inbox.id,
            type=type,
            name=name,
            address=address,
            send_as=send_as,
            settings=orjson.dumps(stored).decode(),
            is_valid=False,
            created_at=now_ms(),
        )
        await log.append(
            tx,
            company_id=principal.company_id,
            type="channel_created",
            source=log.source_of(principal),
            target_type="channel",
            target_id=key,
            data={"inbox_id": inbox.id, "type": type, "address": address, "name": name},
        )
        if partner is not None:
            await partners.link_partner(
                tx,
                company_id=principal.company_id,
                channel_id=key,
                application_id=partner[0],
                base_url=partner[1],
            )
    return key


async def do_update_channel(
    db: Database, *, principal: Principal, channel: store.Channel, changes: dict[str, Any]
) -> None:
    """Apply a PATCH: ``changes`` holds the fields sent (``name``, ``inbox_id``, ``settings``).

    Settings sent replace those of the same name; the others stay. ``inbox_id`` moves the
    channel to another inbox the token sees (404 otherwise).
    """
    for field in ("name", "inbox_id", "settings"):
        if field in changes and changes[field] is None:
            raise BadRequest(f"{field} cannot be null")
    values: dict[str, Any] = {}
    if "name" in changes:
        if not str(changes["name"]).strip():
            raise BadRequest("A channel name cannot be blank")
        values["name"] = changes["name"]
    shared = not channel.is_private
    if "inbox_id" in changes:
        target = await access_inbox(db, principal=principal, ref=str(changes["inbox_id"]))
        values["inbox_id"] = target.id
        shared = not target.is_private
    settings = dict(channel.settings)
    sent = changes.get("settings") or {}
    settings.update(check_settings(sent, type=channel.type, shared=shared, creating=False))
    # Front has all_teammates_can_reply on shared channels only: keep it in step with a move.
    if shared:
        settings.setdefault("all_teammates_can_reply", False)
    else:
        settings.pop("all_teammates_can_reply", None)
    if settings != channel.settings:
        values["settings"] = orjson.dumps(settings).decode()
    if not values:
        return
    async with db.transaction() as tx:
        await crud.update(
            tx, channels_table, company_id=principal.company_id, key=channel.id, **values
        )
        await log.append(
            tx,
            company_id=principal.company_id,
            type="channel_updated",
            source=log.source_of(principal),
            target_type="channel",
            target_id=channel.id,
            data={
                "name": values.get("name", channel.name),
                "inbox_id": values.get("inbox_id", channel.inbox_id),
                "settings": sorted(sent),
            },
        )


async def do_validate_channel(
    db: Database, *, principal: Principal, channel: store.Channel
) -> bool:
    """Check a channel's settings and mark it valid when they are complete; returns validity.

    Front validates asynchronously and answers 202 at once; Porch has nothing to contact, so
    the result is known (and stored) before the answer.
    """
    valid = is_complete(channel.type, channel.send_as, channel.settings)
    if valid and not channel.is_valid:
        async with db.transaction() as tx:
            await crud.update(
                tx, channels_table, company_id=principal.company_id, key=channel.id, is_valid=True
            )
            await log.append(
                tx,
                company_id=principal.company_id,
                type="channel_validated",
                source=log.source_of(principal),
                target_type="channel",
                target_id=channel.id,
                data={"is_valid": True},
            )
    return valid or channel.is_valid
