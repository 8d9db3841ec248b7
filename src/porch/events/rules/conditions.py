"""The condition types a rule can test (docs/rules.md lists their configs)."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, field_validator, model_validator

from porch import ids
from porch.domain.channels import access_channel
from porch.domain.contact_lists import access_list
from porch.domain.custom_fields import definitions
from porch.domain.errors import BadRequest
from porch.domain.inboxes import access_inbox
from porch.domain.principal import Principal
from porch.domain.tags import access_tag
from porch.domain.teammates import access_teammate
from porch.events.rules.facts import Facts
from porch.events.rules.registry import CONDITIONS, Condition, Config, condition, keys, parse
from porch.store.db import Reader

Refs = Annotated[list[Annotated[str, Field(min_length=1, max_length=100)]], Field(max_length=100)]
Words = Annotated[list[Annotated[str, Field(min_length=1, max_length=320)]], Field(max_length=100)]

# Regular expressions are bounded: a short pattern without nested quantifiers (the shape behind
# catastrophic backtracking, e.g. "(a+)+"), run over at most this much text.
MAX_PATTERN = 200
MAX_TEXT = 20_000
_NESTED = re.compile(r"\((?:[^()\\]|\\.)*[*+}](?:[^()\\]|\\.)*\)\s*[*+{]")


async def _each(refs: list[str], check: Any, conn: Reader, principal: Principal) -> None:
    for ref in refs:
        await check(conn, principal=principal, ref=ref)


@condition
class InboxIs(Condition):
    """The conversation is in one of these inboxes."""

    type = "inbox"

    class Config(Config):
        inbox_ids: Annotated[Refs, Field(min_length=1)]

    async def check(self, conn: Reader, *, principal: Principal) -> None:
        await _each(self.config.inbox_ids, access_inbox, conn, principal)

    async def matches(self, facts: Facts) -> bool:
        wanted = set(keys(ids.INBOX, self.config.inbox_ids, "inbox"))
        return any(r["id"] in wanted for r in await facts.inboxes())


@condition
class ChannelIs(Condition):
    """The message came or went through one of these channels."""

    type = "channel"

    class Config(Config):
        channel_ids: Annotated[Refs, Field(min_length=1)]

    async def check(self, conn: Reader, *, principal: Principal) -> None:
        await _each(self.config.channel_ids, access_channel, conn, principal)

    async def matches(self, facts: Facts) -> bool:
        msg = await facts.message()
        wanted = set(keys(ids.CHANNEL, self.config.channel_ids, "channel"))
        return msg is not None and msg.channel_id in wanted


class HandleConfig(Config):
    """Handles (exact, case-insensitive) and/or domains (an email's part after the @)."""

    handles: Words = []
    domains: Words = []

    @model_validator(mode="after")
    def _some(self) -> HandleConfig:
        if not (self.handles or self.domains):
            raise ValueError("give handles or domains")
        return self


def _handle_matches(config: HandleConfig, handle: str) -> bool:
    h = handle.lower()
    if h in {x.lower() for x in config.handles}:
        return True
    domain = h.rsplit("@", 1)[-1] if "@" in h else None
    return domain is not None and domain in {d.lower().lstrip("@") for d in config.domains}


@condition
class SenderIs(Condition):
    """The message's sender has one of these handles or domains."""

    type = "sender"
    Config = HandleConfig

    async def matches(self, facts: Facts) -> bool:
        sender = await facts.sender()
        return sender is not None and _handle_matches(self.config, sender["handle"])


@condition
class RecipientIs(Condition):
    """One of the message's to/cc/bcc recipients has one of these handles or domains."""

    type = "recipient"
    Config = HandleConfig

    async def matches(self, facts: Facts) -> bool:
        return any(
            _handle_matches(self.config, r["handle"])
            for r in await facts.recipients()
            if r["role"] in ("to", "cc", "bcc")
        )


class TextConfig(Config):
    """``contains`` (case-insensitive) or ``matches`` (a bounded regular expression)."""

    contains: Annotated[str, Field(min_length=1, max_length=1000)] | None = None
    matches: Annotated[str, Field(min_length=1, max_length=MAX_PATTERN)] | None = None

    @field_validator("matches")
    @classmethod
    def _bounded(cls, value: str | None) -> str | None:
        if value is None:
            return value
        if _NESTED.search(value):
            raise ValueError("nested quantifiers such as (a+)+ are not allowed")
        try:
            re.compile(value)
        except re.error as exc:
            raise ValueError(f"not a regular expression: {exc}") from exc
        return value

    @model_validator(mode="after")
    def _one(self) -> TextConfig:
        if (self.contains is None) == (self.matches is None):
            raise ValueError("give exactly one of contains or matches")
        return self


def _text_matches(config: TextConfig, text: str) -> bool:
    text = text[:MAX_TEXT]
    if config.contains is not None:
        return config.contains.casefold() in text.casefold()
    assert config.matches is not None
    return re.search(config.matches, text, re.IGNORECASE) is not None


@condition
class SubjectIs(Condition):
    """The conversation's (or message's) subject contains or matches."""

    type = "subject"
    Config = TextConfig

    async def matches(self, facts: Facts) -> bool:
        msg = await facts.message()
        subjects = [facts.conv.subject] + ([msg.subject] if msg else [])
        return any(_text_matches(self.config, s) for s in subjects if s)


@condition
class BodyIs(Condition):
    """The message's text contains or matches."""

    type = "body"
    Config = TextConfig

    async def matches(self, facts: Facts) -> bool:
        msg = await facts.message()
        return msg is not None and _text_matches(self.config, msg.text)


@condition
class HasTags(Condition):
    """The conversation carries any (or all, or none) of these tags."""

    type = "tags"

    class Config(Config):
        tag_ids: Annotated[Refs, Field(min_length=1)]
        mode: Literal["any", "all", "none"] = "any"

    async def check(self, conn: Reader, *, principal: Principal) -> None:
        await _each(self.config.tag_ids, access_tag, conn, principal)

    async def matches(self, facts: Facts) -> bool:
        wanted = set(keys(ids.TAG, self.config.tag_ids, "tag"))
        have = await facts.tag_ids()
        if self.config.mode == "all":
            return wanted <= have
        if self.config.mode == "none":
            return not wanted & have
        return bool(wanted & have)


@condition
class AssigneeIs(Condition):
    """The conversation is assigned to one of these teammates, or (``is_assigned``) to anyone
    or no one."""

    type = "assignee"

    class Config(Config):
        teammate_ids: Refs = []
        is_assigned: bool | None = None

        @model_validator(mode="after")
        def _one(self) -> Any:
            if bool(self.teammate_ids) == (self.is_assigned is not None):
                raise ValueError("give exactly one of teammate_ids or is_assigned")
            return self

    async def check(self, conn: Reader, *, principal: Principal) -> None:
        await _each(self.config.teammate_ids, access_teammate, conn, principal)

    async def matches(self, facts: Facts) -> bool:
        if self.config.is_assigned is not None:
            return bool((facts.conv.assignee_id is not None) == self.config.is_assigned)
        wanted = set(keys(ids.TEAMMATE, self.config.teammate_ids, "teammate"))
        return bool(facts.conv.assignee_id in wanted)


@condition
class InContactList(Condition):
    """The sender's contact is in one of these contact lists."""

    type = "contact_list"

    class Config(Config):
        contact_list_ids: Annotated[Refs, Field(min_length=1)]

    async def check(self, conn: Reader, *, principal: Principal) -> None:
        await _each(self.config.contact_list_ids, access_list, conn, principal)

    async def matches(self, facts: Facts) -> bool:
        wanted = set(keys(ids.CONTACT_LIST, self.config.contact_list_ids, "contact list"))
        return bool(wanted & await facts.contact_lists())


class FieldConfig(Config):
    """A custom field by name, and exactly one test: ``equals`` (strings compare
    case-insensitively), ``contains`` (text) or ``is_set``."""

    field: Annotated[str, Field(min_length=1, max_length=200)]
    equals: str | int | float | bool | None = None
    contains: Annotated[str, Field(min_length=1, max_length=1000)] | None = None
    is_set: bool | None = None

    @model_validator(mode="after")
    def _one(self) -> FieldConfig:
        given = [x is not None for x in (self.equals, self.contains, self.is_set)]
        if sum(given) != 1:
            raise ValueError("give exactly one of equals, contains or is_set")
        return self


def _field_matches(config: FieldConfig, values: dict[str, Any]) -> bool:
    value = values.get(config.field)
    if config.is_set is not None:
        return (value is not None and value != "") == config.is_set
    if value is None:
        return False
    if config.contains is not None:
        return isinstance(value, str) and config.contains.casefold() in value.casefold()
    if isinstance(value, str) and isinstance(config.equals, str):
        return value.casefold() == config.equals.casefold()
    return bool(value == config.equals and type(value) is type(config.equals))


async def _field_exists(conn: Reader, principal: Principal, object_type: str, name: str) -> None:
    names = {f.name for f in await definitions(conn, principal=principal, object_type=object_type)}
    if name not in names:
        raise BadRequest(f"No {object_type} custom field is named {name!r}")


@condition
class ContactField(Condition):
    """A custom field of the sender's contact."""

    type = "contact_field"
    Config = FieldConfig

    async def check(self, conn: Reader, *, principal: Principal) -> None:
        await _field_exists(conn, principal, "contact", self.config.field)

    async def matches(self, facts: Facts) -> bool:
        return _field_matches(self.config, await facts.contact_fields())


@condition
class ConversationField(Condition):
    """A custom field of the conversation."""

    type = "conversation_field"
    Config = FieldConfig

    async def check(self, conn: Reader, *, principal: Principal) -> None:
        await _field_exists(conn, principal, "conversation", self.config.field)

    async def matches(self, facts: Facts) -> bool:
        return _field_matches(self.config, facts.conv.fields)


DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
HourMinute = Annotated[str, Field(pattern=r"^([01]\d|2[0-3]):[0-5]\d$|^24:00$")]
# [start, end] as "HH:MM" (JSON has no tuples).
Span = Annotated[list[HourMinute], Field(min_length=2, max_length=2)]


@condition
class BusinessHours(Condition):
    """The event happened inside (or, with ``inside`` false, outside) weekly hours in a
    timezone: ``{"timezone": "Europe/Paris", "hours": {"mon": [["09:00", "17:00"]]}}``."""

    type = "business_hours"

    class Config(Config):
        timezone: Annotated[str, Field(min_length=1, max_length=64)]
        hours: dict[
            Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"],
            Annotated[list[Span], Field(max_length=10)],
        ]
        inside: bool = True

        @field_validator("timezone")
        @classmethod
        def _zone(cls, value: str) -> str:
            try:
                ZoneInfo(value)
            except (ZoneInfoNotFoundError, ValueError) as exc:
                raise ValueError(f"unknown timezone {value!r}") from exc
            return value

        @field_validator("hours")
        @classmethod
        def _ordered(cls, value: dict[str, list[list[str]]]) -> Any:
            for day, spans in value.items():
                for start, end in spans:
                    if start >= end:
                        raise ValueError(f"{day}: {start}-{end} ends before it starts")
            return value

    async def matches(self, facts: Facts) -> bool:
        local = datetime.fromtimestamp(facts.at / 1000, tz=UTC).astimezone(
            ZoneInfo(self.config.timezone)
        )
        now = local.strftime("%H:%M")
        spans = self.config.hours.get(DAYS[local.weekday()], [])
        inside = any(start <= now < end for start, end in spans)
        return bool(inside == self.config.inside)


class GroupConfig(Config):
    conditions: Annotated[list[dict[str, Any]], Field(min_length=1, max_length=50)]


class _Group(Condition):
    """A nested group of conditions (so that "A and (B or C)" can be written)."""

    Config = GroupConfig

    def __init__(self, config: Any) -> None:
        super().__init__(config)
        self.parts = [
            parse(CONDITIONS, raw, f"{self.type}.conditions[{i}]")
            for i, raw in enumerate(config.conditions)
        ]

    async def check(self, conn: Reader, *, principal: Principal) -> None:
        for part in self.parts:
            await part.check(conn, principal=principal)

    def dump(self) -> dict[str, Any]:
        return {"type": self.type, "conditions": [p.dump() for p in self.parts]}


@condition
class AllOf(_Group):
    type = "all"

    async def matches(self, facts: Facts) -> bool:
        for part in self.parts:
            if not await part.matches(facts):
                return False
        return True


@condition
class AnyOf(_Group):
    type = "any"

    async def matches(self, facts: Facts) -> bool:
        for part in self.parts:
            if await part.matches(facts):
                return True
        return False
