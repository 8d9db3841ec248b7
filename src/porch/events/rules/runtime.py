"""What an action runs with: the rule's principal, the consuming transaction seen as a
database, and the conversation as it is now."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from porch.domain.principal import PERMISSIONS, Principal
from porch.events.rules.facts import Facts
from porch.store import conversations as conversations_store
from porch.store.conversations import Conversation
from porch.store.db import Connection, Query, Row
from porch.store.rules import Rule


class InTransaction:
    """The engine's open transaction offered to ``do_*`` functions as a Database.

    A ``do_*`` function opens ``db.transaction()``; here that is a savepoint of the engine's
    transaction, so an action's writes commit together with the run row and the consumer's
    position (or not at all), and one failing action is undone alone.
    """

    def __init__(self, tx: Connection) -> None:
        self._tx = tx
        self.dialect = tx.dialect

    async def fetch_one(self, q: Query, **params: Any) -> Row | None:
        return await self._tx.fetch_one(q, **params)

    async def fetch_all(self, q: Query, **params: Any) -> list[Row]:
        return await self._tx.fetch_all(q, **params)

    @asynccontextmanager
    async def transaction(self, *, durable: bool = True) -> AsyncIterator[Connection]:
        # Part of the rule run's transaction, which is as durable as that one.
        async with self._tx.savepoint():
            yield self._tx

    async def close(self) -> None:
        return None


def rule_principal(rule: Rule) -> Principal:
    """Who a rule acts as: its company, every shared and private resource (within the API's
    private-access consent), every permission, and the rule as the source of its events."""
    return Principal(
        company_id=rule.company_id,
        token_id=None,
        shared=True,
        private=True,
        provisioning=False,
        team_ids=frozenset(),
        permissions=frozenset(PERMISSIONS),
        rate_limit_per_minute=0,
        rate_limit_burst=False,
        rule_id=rule.id,
    )


@dataclass
class Act:
    """One run of one rule's actions on one conversation."""

    tx: Connection
    rule: Rule
    facts: Facts
    event: Row
    # What the rule remembers between runs (rules.state), saved after the run.
    memory: dict[str, Any] = field(default_factory=dict)

    @property
    def db(self) -> InTransaction:
        return InTransaction(self.tx)

    @property
    def principal(self) -> Principal:
        return rule_principal(self.rule)

    async def conversation(self) -> Conversation:
        """The conversation as the earlier actions left it."""
        conv = await conversations_store.get(
            self.tx, company_id=self.rule.company_id, key=self.facts.conv.id
        )
        assert conv is not None
        return conv
