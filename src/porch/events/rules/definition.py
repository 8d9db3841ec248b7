"""A rule's definition: triggers, how conditions combine, conditions and actions, parsed from
the JSON the admin API and CLI take (docs/rules.md)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, Literal

import pydantic
from pydantic import Field, model_validator

from porch import ids
from porch.domain.errors import BadRequest
from porch.domain.inboxes import access_inbox
from porch.domain.principal import Principal
from porch.domain.tags import access_tag
from porch.domain.teammates import access_teammate
from porch.events.rules import actions as _actions  # noqa: F401 - registers the action types
from porch.events.rules.conditions import Refs
from porch.events.rules.registry import (
    ACTIONS,
    CONDITIONS,
    Action,
    Condition,
    Config,
    details,
    parse,
)
from porch.events.rules.registry import keys as decode_keys
from porch.store.db import Reader

# Which events each trigger type fires on. "unreplied" is time-based: an inbound message arms
# it, and it fires when no reply (nor archive, trash) came within ``minutes``.
TRIGGERS: dict[str, tuple[str, ...]] = {
    "inbound_message": ("inbound",),
    "outbound_message": ("outbound", "out_reply"),
    "new_comment": ("comment",),
    "tag_added": ("tag",),
    "tag_removed": ("untag",),
    "assigned": ("assign",),
    "unassigned": ("unassign",),
    "moved": ("move",),
    "archived": ("archive",),
    "reopened": ("reopen",),
    "unreplied": (),
}
ARMS_TIMER = frozenset({"inbound"})
CLEARS_TIMER = frozenset({"outbound", "out_reply", "archive", "trash"})
# Which trigger filters name what (the event's target), and what the ids' prefix is.
_FILTERS = {
    "tag_added": ("tag_ids", ids.TAG),
    "tag_removed": ("tag_ids", ids.TAG),
    "assigned": ("teammate_ids", ids.TEAMMATE),
    "moved": ("inbox_ids", ids.INBOX),
}
# A month: longer waits are not what "unreplied" means.
MAX_MINUTES = 30 * 24 * 60
# Nested condition groups deeper than this are refused (they only make rules unreadable).
MAX_NESTING = 5


class TriggerConfig(Config):
    type: Literal[
        "inbound_message",
        "outbound_message",
        "new_comment",
        "tag_added",
        "tag_removed",
        "assigned",
        "unassigned",
        "moved",
        "archived",
        "reopened",
        "unreplied",
    ]
    tag_ids: Refs | None = None
    teammate_ids: Refs | None = None
    inbox_ids: Refs | None = None
    # Fractions are allowed (tests use seconds).
    minutes: Annotated[float, Field(gt=0, le=MAX_MINUTES)] | None = None

    @model_validator(mode="after")
    def _fits(self) -> TriggerConfig:
        if (self.type == "unreplied") != (self.minutes is not None):
            raise ValueError("minutes is required for unreplied, and only for it")
        allowed = _FILTERS.get(self.type, (None,))[0]
        for name in ("tag_ids", "teammate_ids", "inbox_ids"):
            if getattr(self, name) is not None and name != allowed:
                raise ValueError(f"{name} does not apply to {self.type}")
        return self


class Shape(Config):
    triggers: Annotated[list[TriggerConfig], Field(min_length=1, max_length=20)]
    match: Literal["all", "any"] = "all"
    conditions: Annotated[list[dict[str, Any]], Field(max_length=50)] = []
    actions: Annotated[list[dict[str, Any]], Field(min_length=1, max_length=20)]


@dataclass(frozen=True, slots=True)
class Trigger:
    config: TriggerConfig

    @property
    def event_types(self) -> tuple[str, ...]:
        return TRIGGERS[self.config.type]

    def fires_on(self, event_type: str, target_id: int | None) -> bool:
        if event_type not in self.event_types:
            return False
        name, prefix = _FILTERS.get(self.config.type, (None, ""))
        wanted = getattr(self.config, name) if name else None
        if wanted is None:
            return True
        return target_id in set(decode_keys(prefix, wanted, name or ""))


@dataclass(frozen=True, slots=True)
class Definition:
    triggers: list[Trigger]
    match: str
    conditions: list[Condition]
    actions: list[Action]

    def dump(self) -> dict[str, Any]:
        """The definition as stored and shown: normalised, without unset options."""
        return {
            "triggers": [t.config.model_dump(exclude_none=True) for t in self.triggers],
            "match": self.match,
            "conditions": [c.dump() for c in self.conditions],
            "actions": [a.dump() for a in self.actions],
        }

    def fires_on(self, event_type: str, target_id: int | None) -> bool:
        return any(t.fires_on(event_type, target_id) for t in self.triggers)

    @property
    def timer_minutes(self) -> float | None:
        found = [t.config.minutes for t in self.triggers if t.config.minutes is not None]
        return min(found) if found else None


def _nesting(raw: Any, depth: int = 0) -> int:
    if isinstance(raw, dict):
        return max([depth] + [_nesting(v, depth + 1) for v in raw.values()])
    if isinstance(raw, list):
        return max([depth] + [_nesting(v, depth + 1) for v in raw])
    return depth


def parse_definition(raw: Any) -> Definition:
    """The definition ``raw`` describes; BadRequest listing what is wrong."""
    if not isinstance(raw, dict):
        raise BadRequest("The rule is invalid", details=["the definition must be an object"])
    if _nesting(raw) > 4 + 2 * MAX_NESTING:
        raise BadRequest("The rule is invalid", details=["conditions are nested too deeply"])
    try:
        shape = Shape.model_validate(raw)
    except pydantic.ValidationError as exc:
        raise BadRequest("The rule is invalid", details=details(exc, "rule")) from exc
    return Definition(
        triggers=[Trigger(t) for t in shape.triggers],
        match=shape.match,
        conditions=[
            parse(CONDITIONS, c, f"conditions[{i}]") for i, c in enumerate(shape.conditions)
        ],
        actions=[parse(ACTIONS, a, f"actions[{i}]") for i, a in enumerate(shape.actions)],
    )


async def check_definition(conn: Reader, *, principal: Principal, definition: Definition) -> None:
    """Check that what the definition names exists (NotFound / BadRequest otherwise)."""
    for t in definition.triggers:
        for ref in t.config.tag_ids or []:
            await access_tag(conn, principal=principal, ref=ref)
        for ref in t.config.teammate_ids or []:
            await access_teammate(conn, principal=principal, ref=ref)
        for ref in t.config.inbox_ids or []:
            await access_inbox(conn, principal=principal, ref=ref)
    for part in [*definition.conditions, *definition.actions]:
        await part.check(conn, principal=principal)
