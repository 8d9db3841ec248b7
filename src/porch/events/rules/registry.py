"""The registries of condition and action types, and what every rule part has in common.

A rule's conditions and actions are small classes registered under a type name, in the spirit
of Mailman's rules and chain links: each one parses its JSON config with a pydantic model when
the rule is saved (a bad definition is a 400 naming the part), checks the objects it names
exist, and then does one thing when the engine asks.
"""

from __future__ import annotations

import builtins
from abc import ABC, abstractmethod
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

import pydantic
from pydantic import ConfigDict

from porch import ids
from porch.domain.errors import BadRequest

if TYPE_CHECKING:
    from porch.domain.principal import Principal
    from porch.events.rules.facts import Facts
    from porch.events.rules.runtime import Act
    from porch.store.db import Reader


class Config(pydantic.BaseModel):
    """Base of every part's config: strict, and unknown keys are an error (a typo in a rule
    must not silently change what it does)."""

    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)


_ConfigBase = Config


class Part(ABC):
    """A configured condition or action."""

    type: ClassVar[str]
    Config: ClassVar[builtins.type[_ConfigBase]]

    def __init__(self, config: Any) -> None:
        self.config = config

    async def check(self, conn: Reader, *, principal: Principal) -> None:
        """Raise a domain error (NotFound, BadRequest) if the config names what is not there.
        Runs when the rule is saved, with the saving admin's principal."""
        return None

    def dump(self) -> dict[str, Any]:
        """The config as stored: the type plus the validated fields."""
        return {"type": self.type, **self.config.model_dump(exclude_none=True)}


class Condition(Part):
    """Something a conversation (and the event that triggered the rule) is or is not."""

    @abstractmethod
    async def matches(self, facts: Facts) -> bool: ...


class Action(Part):
    """Something a rule does, always through the domain's ``do_*`` functions."""

    @abstractmethod
    async def run(self, act: Act) -> None: ...

    async def describe(self, conn: Reader, *, company_id: int) -> str:
        """A human-readable line for Front's Rule ``actions`` ("Tag with Urgent")."""
        return self.type.replace("_", " ").capitalize()


CONDITIONS: dict[str, type[Condition]] = {}
ACTIONS: dict[str, type[Action]] = {}

C = TypeVar("C", bound=type[Condition])
A = TypeVar("A", bound=type[Action])


def condition(cls: C) -> C:
    """Register a condition class under its ``type``."""
    CONDITIONS[cls.type] = cls
    return cls


def action(cls: A) -> A:
    """Register an action class under its ``type``."""
    ACTIONS[cls.type] = cls
    return cls


P = TypeVar("P", bound=Part)


def parse(registry: dict[str, type[P]], raw: Any, where: str) -> P:
    """Build the part ``raw`` describes; BadRequest naming ``where`` and every problem."""
    if not isinstance(raw, dict) or not isinstance(raw.get("type"), str):
        raise BadRequest("The rule is invalid", details=[f"{where}: must be an object with a type"])
    kind = raw["type"]
    cls = registry.get(kind)
    if cls is None:
        known = ", ".join(sorted(registry))
        raise BadRequest(
            "The rule is invalid", details=[f"{where}.type: unknown type {kind!r} (one of {known})"]
        )
    try:
        config = cls.Config.model_validate({k: v for k, v in raw.items() if k != "type"})
    except pydantic.ValidationError as exc:
        raise BadRequest("The rule is invalid", details=details(exc, where)) from exc
    return cls(config)


def details(exc: pydantic.ValidationError, where: str) -> list[str]:
    """One line per pydantic error, prefixed with where in the rule it is."""
    out = []
    for err in exc.errors(include_url=False, include_input=False):
        path = ".".join(str(p) for p in err["loc"])
        out.append(f"{where}{'.' + path if path else ''}: {err['msg']}")
    return out


def keys(prefix: str, refs: list[str], what: str) -> list[int]:
    """The keys of public ids stored in a rule (validated when it was saved)."""
    out = []
    for ref in refs:
        key = ids.decode(prefix, ref)
        if key is None:
            raise BadRequest(f"{ref!r} is not a {what} id")
        out.append(key)
    return out
