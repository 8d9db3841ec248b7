"""The rules engine: an event-log consumer that runs the company's rules on each
conversation event.

For each event on a conversation and each enabled rule of its company whose trigger fires on it
(and whose owner's inboxes hold the conversation), the engine evaluates the conditions and, if
they hold, runs the actions through the domain's ``do_*`` functions with the rule as principal,
all on the consumer's transaction. A run row keyed by (rule, event) is written in that same
transaction: a batch read again after a crash finds it and does nothing twice.

Loop protection: a rule never runs on an event its own actions appended; and each event a rule
appends is one step deeper than the event that triggered that rule (the run row records the
range of event ids its actions appended, so the depth of any rule-caused event can be found).
A run triggered at depth ``MAX_CHAIN`` or more is recorded as ``chain_limit`` and does nothing:
a chain of rules reacting to each other on one conversation stops after ``MAX_CHAIN`` steps.
"""

from __future__ import annotations

import logging
from typing import Any

import orjson

from porch.domain.errors import PorchError
from porch.events.rules.actions import RuleActionFailed
from porch.events.rules.definition import (
    ARMS_TIMER,
    CLEARS_TIMER,
    TRIGGERS,
    Definition,
    parse_definition,
)
from porch.events.rules.facts import Facts
from porch.events.rules.runtime import Act
from porch.store import conversations as conversations_store
from porch.store import crud
from porch.store import rules as store
from porch.store.conversations import Conversation
from porch.store.db import Connection, Row
from porch.store.rules import Rule
from porch.store.tables import rule_runs, rules
from porch.timeutil import now_ms

logger = logging.getLogger("porch.rules")

MAX_CHAIN = 5
_TRIGGERING = frozenset(t for types in TRIGGERS.values() for t in types)
_INTERESTING = _TRIGGERING | ARMS_TIMER | CLEARS_TIMER
# Parsed definitions by (rule, updated_at): parsing is pure, and a saved rule gets a new time.
_parsed: dict[tuple[int, int], Definition] = {}


def definition_of(rule: Rule) -> Definition:
    """The rule's parsed definition (cached until the rule is saved again)."""
    key = (rule.id, rule.updated_at)
    found = _parsed.get(key)
    if found is None:
        if len(_parsed) > 10_000:
            _parsed.clear()
        found = _parsed[key] = parse_definition(rule.spec)
    return found


def in_scope(rule: Rule, inboxes: list[Row]) -> bool:
    """Whether the rule's owner reaches a conversation in these inboxes: a teammate rule its
    private inboxes, a team rule the team's inboxes, a company rule every inbox but teammates'
    private ones (and conversations in no inbox)."""
    if rule.owner_teammate_id is not None:
        return any(r["owner_teammate_id"] == rule.owner_teammate_id for r in inboxes)
    if rule.team_id is not None:
        return any(r["team_id"] == rule.team_id for r in inboxes)
    return not inboxes or any(r["owner_teammate_id"] is None for r in inboxes)


class RulesEngine:
    """The ``rules`` consumer of the event log."""

    name = "rules"

    async def apply(self, tx: Connection, events: list[Row]) -> None:
        relevant = [
            e
            for e in events
            if e["conversation_id"] is not None
            and e["type"] in _INTERESTING
            and not _skips_rules(e)
        ]
        if not relevant:
            return
        company_ids = sorted({int(e["company_id"]) for e in relevant})
        by_company: dict[int, list[Rule]] = {}
        for rule in await store.enabled_of(tx, company_ids=company_ids):
            by_company.setdefault(rule.company_id, []).append(rule)
        memories: dict[int, dict[str, Any]] = {}
        for event in relevant:
            company_rules = by_company.get(int(event["company_id"]), [])
            if company_rules:
                await self._event(tx, event, company_rules, memories)

    async def _event(
        self, tx: Connection, event: Row, company_rules: list[Rule], memories: dict[int, Any]
    ) -> None:
        conv = await conversations_store.get(
            tx, company_id=event["company_id"], key=event["conversation_id"]
        )
        if conv is None or conv.merged_into_id is not None:
            return
        inboxes = await store.inboxes_of_conversation(tx, company_id=conv.company_id, key=conv.id)
        timed = [r for r in company_rules if definition_of(r).timer_minutes is not None]
        if timed and event["type"] in CLEARS_TIMER:
            await store.clear_timers(
                tx,
                company_id=conv.company_id,
                conversation_id=conv.id,
                rule_ids=[r.id for r in timed],
            )
        for rule in company_rules:
            if event["source_type"] == "rule" and event["source_id"] == rule.id:
                continue  # a rule never reacts to what it did itself
            if not in_scope(rule, inboxes):
                continue
            definition = definition_of(rule)
            minutes = definition.timer_minutes
            if minutes is not None and event["type"] in ARMS_TIMER:
                await store.arm_timer(
                    tx,
                    company_id=conv.company_id,
                    rule_id=rule.id,
                    conversation_id=conv.id,
                    event_id=event["id"],
                    due=int(event["emitted_at"]) + round(minutes * 60_000),
                )
            if not definition.fires_on(event["type"], event["target_id"]):
                continue
            if await store.has_run(tx, rule_id=rule.id, event_id=event["id"], kind="event"):
                continue
            outcome = await run_rule(
                tx,
                rule=rule,
                definition=definition,
                conv=conv,
                event=event,
                kind="event",
                depth=await depth_of(tx, event),
                at=int(event["emitted_at"]),
                memory=memories.setdefault(rule.id, rule.memory),
            )
            if outcome == "matched":
                # The next rule sees what this one changed.
                fresh = await conversations_store.get(tx, company_id=conv.company_id, key=conv.id)
                if fresh is None:
                    return
                conv = fresh
                inboxes = await store.inboxes_of_conversation(
                    tx, company_id=conv.company_id, key=conv.id
                )


async def depth_of(tx: Connection, event: Row) -> int:
    """How many rule steps led to ``event``: 0 for what a person, token or timer did."""
    if event["source_type"] != "rule" or event["source_id"] is None:
        return 0
    found = await store.depth_of_rule_event(tx, rule_id=event["source_id"], event_id=event["id"])
    return (found or 0) + 1


async def run_rule(
    tx: Connection,
    *,
    rule: Rule,
    definition: Definition,
    conv: Conversation,
    event: Row,
    kind: str,
    depth: int,
    at: int,
    memory: dict[str, Any],
) -> str:
    """Evaluate ``rule`` on ``conv`` and, if its conditions hold, run its actions; write the
    run row. Returns the outcome (matched, not_matched, chain_limit)."""
    record: list[dict[str, Any]] = []
    caused: tuple[int | None, int | None] = (None, None)
    facts = Facts(tx, conv=conv, event=event, at=at)
    if depth >= MAX_CHAIN:
        outcome = "chain_limit"
        logger.info("rule %s: chain limit reached on conversation %s", rule.id, conv.id)
    elif not await _matches(definition, facts):
        outcome = "not_matched"
    else:
        outcome = "matched"
        before = await store.last_event_id(tx)
        act = Act(tx=tx, rule=rule, facts=facts, event=event, memory=memory)
        remembered = orjson.dumps(memory)
        for action in definition.actions:
            entry: dict[str, Any] = {"type": action.type, "ok": True}
            try:
                async with tx.savepoint():
                    await action.run(act)
            except (PorchError, RuleActionFailed) as exc:
                entry.update(ok=False, error=str(exc) or type(exc).__name__)
            except Exception as exc:  # an action's bug must not stop the other rules
                logger.exception("rule %s: action %s failed", rule.id, action.type)
                entry.update(ok=False, error=f"internal error: {type(exc).__name__}")
            record.append(entry)
        if orjson.dumps(memory) != remembered:
            await crud.update(
                tx,
                rules,
                company_id=rule.company_id,
                key=rule.id,
                state=orjson.dumps(memory).decode(),
            )
        caused = await store.caused_range(
            tx, company_id=rule.company_id, rule_id=rule.id, after=before
        )
    await crud.insert(
        tx,
        rule_runs,
        company_id=rule.company_id,
        rule_id=rule.id,
        event_id=event["id"],
        kind=kind,
        conversation_id=conv.id,
        outcome=outcome,
        depth=depth,
        actions=orjson.dumps(record).decode(),
        caused_from=caused[0],
        caused_to=caused[1],
        created_at=now_ms(),
    )
    return outcome


async def _matches(definition: Definition, facts: Facts) -> bool:
    if not definition.conditions:
        return True
    if definition.match == "any":
        for c in definition.conditions:
            if await c.matches(facts):
                return True
        return False
    for c in definition.conditions:
        if not await c.matches(facts):
            return False
    return True


def _skips_rules(event: Row) -> bool:
    """An imported message's events when the import asked rules not to run."""
    data = event["data"]
    if not data or b"skip_rules" not in (data.encode() if isinstance(data, str) else data):
        return False
    return bool(orjson.loads(data).get("skip_rules"))
