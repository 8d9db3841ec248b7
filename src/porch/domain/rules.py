"""Rules: saving, enabling, deleting and reading them, and their audit.

A rule belongs to the company, a team or a teammate. Its definition (triggers, conditions,
actions: docs/rules.md) is parsed and checked when it is saved, so a bad one is a 400 and the
engine (``porch.events.rules``) only ever reads valid definitions.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson

from porch import ids
from porch.domain.errors import BadRequest, NotFound, not_found
from porch.domain.principal import Principal
from porch.domain.teammates import access_teammate
from porch.domain.teams import access_team
from porch.events import log
from porch.events.rules.definition import Definition, check_definition, parse_definition
from porch.events.rules.engine import definition_of
from porch.store import crud
from porch.store import rules as store
from porch.store.db import Database, Reader, Row
from porch.store.rules import Rule
from porch.store.tables import rule_timers, rules
from porch.timeutil import now_ms


@dataclass(frozen=True, slots=True)
class Owner:
    """Whose rule it is: a team, a teammate, or (neither) the company."""

    team_id: int | None = None
    teammate_id: int | None = None


async def access_rule(conn: Reader, *, principal: Principal, ref: str) -> Rule:
    """The rule ``ref`` (``rul_...``) names if the token sees it; NotFound otherwise."""
    key = ids.decode(ids.RULE, ref)
    found = None
    if key is not None:
        found = await store.get_visible(
            conn, company_id=principal.company_id, key=key, vis=principal.visibility()
        )
    if found is None:
        raise not_found("rule", ref)
    return found


async def access_rule_admin(
    conn: Reader, *, principal: Principal, ref: str, deleted: bool = False
) -> Rule:
    """Any rule of the company (the admin API: provisioning tokens manage every rule); a
    deleted one only with ``deleted`` (its audit stays readable)."""
    principal.require_provisioning()
    key = ids.decode(ids.RULE, ref)
    found = None
    if key is not None:
        found = await store.get(conn, company_id=principal.company_id, key=key, deleted=deleted)
    if found is None:
        raise not_found("rule", ref)
    return found


async def owner_of(conn: Reader, *, principal: Principal, raw: Any) -> Owner:
    """The owner a definition's ``owner`` names: absent or ``{}`` for the company,
    ``{"team_id": "tim_..."}`` or ``{"teammate_id": "tea_..."}``."""
    if raw is None or raw == {}:
        return Owner()
    if not isinstance(raw, dict) or len(raw) != 1:
        raise BadRequest('owner must be {}, {"team_id": ...} or {"teammate_id": ...}')
    ((kind, ref),) = raw.items()
    if not isinstance(ref, str):
        raise BadRequest(f"owner.{kind} must be a string")
    if kind == "team_id":
        return Owner(team_id=(await access_team(conn, principal=principal, ref=ref)).id)
    if kind == "teammate_id":
        return Owner(teammate_id=(await access_teammate(conn, principal=principal, ref=ref)).id)
    raise BadRequest('owner must be {}, {"team_id": ...} or {"teammate_id": ...}')


async def do_create_rule(
    db: Database,
    *,
    principal: Principal,
    name: str,
    owner: Owner,
    is_enabled: bool,
    definition: dict[str, Any],
) -> Rule:
    """Save a new rule after checking its definition (400 / 404 naming what is wrong)."""
    parsed = parse_definition(definition)
    try:
        await check_definition(db, principal=principal, definition=parsed)
    except NotFound as exc:
        # A rule naming what does not exist is a bad definition, not a missing resource.
        raise BadRequest("The rule is invalid", details=[exc.message]) from exc
    now = now_ms()
    async with db.transaction() as tx:
        key = await crud.insert(
            tx,
            rules,
            company_id=principal.company_id,
            name=name,
            team_id=owner.team_id,
            owner_teammate_id=owner.teammate_id,
            is_enabled=is_enabled,
            definition=orjson.dumps(parsed.dump()).decode(),
            state="{}",
            created_at=now,
            updated_at=now,
            deleted_at=None,
        )
        await log.append(
            tx,
            company_id=principal.company_id,
            type="rule_created",
            source=log.source_of(principal),
            target_type="rule",
            target_id=key,
            data={"name": name},
        )
        rule = await store.get(tx, company_id=principal.company_id, key=key)
    assert rule is not None
    return rule


# The parts of a definition an update may replace (docs/rules.md); the owner stays.
DEFINITION_PARTS = ("triggers", "match", "conditions", "actions")


async def check_new_definition(
    conn: Reader, *, principal: Principal, rule: Rule, parts: dict[str, Any]
) -> Definition:
    """The rule's definition with ``parts`` (triggers, match, conditions, actions) replaced,
    checked as a new rule's is (400 naming every problem)."""
    unknown = sorted(set(parts) - set(DEFINITION_PARTS))
    if unknown:
        raise BadRequest(
            "The rule is invalid", details=[f"{k}: cannot be changed" for k in unknown]
        )
    parsed = parse_definition({**rule.spec, **parts})
    try:
        await check_definition(conn, principal=principal, definition=parsed)
    except NotFound as exc:
        raise BadRequest("The rule is invalid", details=[exc.message]) from exc
    return parsed


async def do_update_rule(
    db: Database,
    *,
    principal: Principal,
    rule: Rule,
    changes: dict[str, Any],
    definition: dict[str, Any] | None = None,
) -> Rule:
    """Rename, enable or disable a rule (``changes``: name, is_enabled) and replace parts of
    its definition (``definition``: any of triggers, match, conditions, actions), checked
    first as on creation: a bad one changes nothing. Disabling drops the rule's waiting
    timers, as does a change of triggers: they were armed for the old ones."""
    parsed = None
    if definition:
        parsed = await check_new_definition(db, principal=principal, rule=rule, parts=definition)
    values = {k: v for k, v in changes.items() if getattr(rule, k) != v}
    new_spec = None
    if parsed is not None and parsed.dump() != rule.spec:
        new_spec = parsed.dump()
        values["definition"] = orjson.dumps(new_spec).decode()
        # updated_at only moves with the definition's meaning: it keys the parsed cache, so
        # two edits within a millisecond still get two times.
        values["updated_at"] = max(now_ms(), rule.updated_at + 1)
    drop_timers = values.get("is_enabled") is False or (
        new_spec is not None and new_spec["triggers"] != rule.spec.get("triggers")
    )
    async with db.transaction() as tx:
        if values:
            await crud.update(tx, rules, company_id=rule.company_id, key=rule.id, **values)
            if drop_timers:
                await crud.delete_where(
                    tx, rule_timers, company_id=rule.company_id, rule_id=rule.id
                )
            data = {k: v for k, v in values.items() if k not in ("definition", "updated_at")}
            if new_spec is not None:
                data["definition"] = new_spec
            await log.append(
                tx,
                company_id=principal.company_id,
                type="rule_updated",
                source=log.source_of(principal),
                target_type="rule",
                target_id=rule.id,
                data=data,
            )
        found = await store.get(tx, company_id=rule.company_id, key=rule.id)
    assert found is not None
    return found


async def do_delete_rule(db: Database, *, principal: Principal, rule: Rule) -> None:
    """Delete a rule: it stops at once; its runs stay readable in the audit."""
    async with db.transaction() as tx:
        await crud.update(
            tx,
            rules,
            company_id=rule.company_id,
            key=rule.id,
            deleted_at=now_ms(),
            is_enabled=False,
        )
        await crud.delete_where(tx, rule_timers, company_id=rule.company_id, rule_id=rule.id)
        await log.append(
            tx,
            company_id=principal.company_id,
            type="rule_deleted",
            source=log.source_of(principal),
            target_type="rule",
            target_id=rule.id,
        )


async def list_rules(
    conn: Reader, *, principal: Principal, scope: str, owner: int | None = None
) -> list[Rule]:
    """The visible rules: ``all``, ``company``, a ``team``'s or a ``teammate``'s."""
    return await store.visible(
        conn, company_id=principal.company_id, vis=principal.visibility(), scope=scope, owner=owner
    )


async def all_rules(conn: Reader, *, principal: Principal) -> list[Rule]:
    """Every rule of the company (the admin API)."""
    principal.require_provisioning()
    return await store.all_of(conn, company_id=principal.company_id)


async def describe_actions(conn: Reader, *, rule: Rule) -> list[str]:
    """The rule's actions as Front shows them: one readable line each."""
    return [await a.describe(conn, company_id=rule.company_id) for a in definition_of(rule).actions]


async def list_runs(
    conn: Reader, *, principal: Principal, rule: Rule, before: int | None, limit: int
) -> list[Row]:
    """The rule's audit, newest first."""
    return await store.runs_of(
        conn,
        company_id=principal.company_id,
        rule_id=rule.id,
        before=before if before is not None else 2**62,
        limit=limit,
    )
