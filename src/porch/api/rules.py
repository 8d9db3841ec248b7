"""Rules (Front tag "Rules"): Front's read operations, and Porch's admin API to manage them.

Front's API only reads rules, and shows each action as a readable line. Porch's admin API
(``/porch/rules``, provisioning tokens) creates, edits, enables, disables and deletes them with the
JSON definition of docs/rules.md, and reads each rule's audit: the runs of the rules engine.
"""

from __future__ import annotations

from typing import Annotated, Any

import orjson
from pydantic import Field, StrictBool

from porch import ids
from porch.api import shapes
from porch.api.http import Request, Response, json_response, no_content
from porch.api.models import Body, Name
from porch.api.pagination import collection, read_limit
from porch.api.routing import Routes
from porch.domain import rules as domain
from porch.domain.errors import BadRequest
from porch.domain.teammates import access_teammate, private_owner
from porch.domain.teams import access_team
from porch.store.db import Row
from porch.store.rules import Rule
from porch.timeutil import to_api

routes = Routes()


async def rule_json(req: Request, rule: Rule) -> dict[str, Any]:
    """Front's RuleResponse."""
    return shapes.rule_json(req, rule, await domain.describe_actions(req.db, rule=rule))


async def _list(req: Request, scope: str, owner: int | None = None) -> Response:
    found = await domain.list_rules(req.db, principal=req.principal, scope=scope, owner=owner)
    return collection(req, [await rule_json(req, r) for r in found])


@routes.get("/rules", "list-rules", scope="rules:read")
async def list_rules(req: Request) -> Response:
    """List every rule the token can see."""
    return await _list(req, "all")


@routes.get("/company/rules", "list-all-company-rules", scope="rules:read")
async def list_all_company_rules(req: Request) -> Response:
    """List the company-wide rules."""
    return await _list(req, "company")


@routes.get("/teams/{team_id}/rules", "list-team-rules", scope="rules:read")
async def list_team_rules(req: Request) -> Response:
    """List a team's rules."""
    team = await access_team(req.db, principal=req.principal, ref=req.path_params["team_id"])
    return await _list(req, "team", team.id)


@routes.get("/teammates/{teammate_id}/rules", "list-teammate-rules", scope="rules:read")
async def list_teammate_rules(req: Request) -> Response:
    """List a teammate's individual rules (needs the teammate's private-access consent)."""
    teammate = await access_teammate(
        req.db, principal=req.principal, ref=req.path_params["teammate_id"]
    )
    private_owner(req.principal, teammate)
    return await _list(req, "teammate", teammate.id)


@routes.get("/rules/{rule_id}", "get-rule", scope="rules:read")
async def get_rule(req: Request) -> Response:
    """Fetch a rule."""
    rule = await domain.access_rule(req.db, principal=req.principal, ref=req.path_params["rule_id"])
    return json_response(await rule_json(req, rule))


# --- Porch's admin API ---------------------------------------------------------------------------


def rule_admin_json(req: Request, rule: Rule, actions: list[str]) -> dict[str, Any]:
    """A rule as the admin API and CLI show it: the Front fields plus owner, state and the
    stored definition."""
    owner: dict[str, str] = {}
    if rule.team_id is not None:
        owner = {"team_id": ids.encode(ids.TEAM, rule.team_id)}
    elif rule.owner_teammate_id is not None:
        owner = {"teammate_id": ids.encode(ids.TEAMMATE, rule.owner_teammate_id)}
    return {
        "id": ids.encode(ids.RULE, rule.id),
        "name": rule.name,
        "owner": owner,
        "is_enabled": bool(rule.is_enabled),
        "actions_description": actions,
        **rule.spec,
        "created_at": to_api(rule.created_at),
        "updated_at": to_api(rule.updated_at),
    }


async def _admin_json(req: Request, rule: Rule) -> dict[str, Any]:
    return rule_admin_json(req, rule, await domain.describe_actions(req.db, rule=rule))


class UpdateRule(Body):
    name: Annotated[Name, Field(max_length=200)] | None = None
    is_enabled: StrictBool | None = None
    # Parts of the definition to replace, checked as on creation (domain.rules).
    triggers: Any = None
    match: Any = None
    conditions: Any = None
    actions: Any = None


@routes.post("/porch/rules", "porch-create-rule", scope=None, status=201, front=False)
async def porch_create_rule(req: Request) -> Response:
    """Create a rule from its JSON definition (docs/rules.md)."""
    req.principal.require_provisioning()
    data = await req.json()
    if not isinstance(data, dict):
        raise BadRequest("The request body must be a JSON object")
    name = data.get("name")
    if not isinstance(name, str) or not name.strip() or len(name) > 200 or "\x00" in name:
        raise BadRequest("The rule is invalid", details=["name: a non-empty string is required"])
    enabled = data.get("is_enabled", True)
    if not isinstance(enabled, bool):
        raise BadRequest("The rule is invalid", details=["is_enabled: must be true or false"])
    owner = await domain.owner_of(req.db, principal=req.principal, raw=data.get("owner"))
    definition = {k: v for k, v in data.items() if k not in ("name", "is_enabled", "owner")}
    rule = await domain.do_create_rule(
        req.db,
        principal=req.principal,
        name=name.strip(),
        owner=owner,
        is_enabled=enabled,
        definition=definition,
    )
    return json_response(await _admin_json(req, rule), 201)


@routes.get("/porch/rules", "porch-list-rules", scope=None, front=False)
async def porch_list_rules(req: Request) -> Response:
    """Every rule of the company, with its definition."""
    req.principal.require_provisioning()
    found = await domain.all_rules(req.db, principal=req.principal)
    return collection(req, [await _admin_json(req, r) for r in found])


@routes.get("/porch/rules/{rule_id}", "porch-get-rule", scope=None, front=False)
async def porch_get_rule(req: Request) -> Response:
    """One rule with its definition."""
    rule = await domain.access_rule_admin(
        req.db, principal=req.principal, ref=req.path_params["rule_id"]
    )
    return json_response(await _admin_json(req, rule))


@routes.patch(
    "/porch/rules/{rule_id}", "porch-update-rule", scope=None, body=UpdateRule, front=False
)
async def porch_update_rule(req: Request) -> Response:
    """Rename, enable or disable a rule, or replace parts of its definition (triggers, match,
    conditions, actions: checked as on creation, 400 changing nothing when bad)."""
    rule = await domain.access_rule_admin(
        req.db, principal=req.principal, ref=req.path_params["rule_id"]
    )
    data = await req.json()
    if isinstance(data, dict) and "owner" in data:
        raise BadRequest(
            "The rule is invalid",
            details=["owner: cannot be changed (create a new rule with the new owner)"],
        )
    body = await req.parse(UpdateRule)
    sent = body.sent()
    changes = {k: sent[k] for k in ("name", "is_enabled") if sent.get(k) is not None}
    parts = {k: sent[k] for k in domain.DEFINITION_PARTS if k in sent}
    updated = await domain.do_update_rule(
        req.db, principal=req.principal, rule=rule, changes=changes, definition=parts
    )
    return json_response(await _admin_json(req, updated))


@routes.delete("/porch/rules/{rule_id}", "porch-delete-rule", scope=None, status=204, front=False)
async def porch_delete_rule(req: Request) -> Response:
    """Delete a rule (its audit stays readable)."""
    rule = await domain.access_rule_admin(
        req.db, principal=req.principal, ref=req.path_params["rule_id"]
    )
    await domain.do_delete_rule(req.db, principal=req.principal, rule=rule)
    return no_content()


def run_json(row: Row) -> dict[str, Any]:
    return {
        "id": int(row["id"]),
        "rule_id": ids.encode(ids.RULE, row["rule_id"]),
        "event_id": ids.encode(ids.EVENT, row["event_id"]),
        "kind": row["kind"],
        "conversation_id": (
            ids.encode(ids.CONVERSATION, row["conversation_id"])
            if row["conversation_id"] is not None
            else None
        ),
        "outcome": row["outcome"],
        "depth": int(row["depth"]),
        "actions": orjson.loads(row["actions"]),
        "created_at": to_api(row["created_at"]),
    }


@routes.get("/porch/rules/{rule_id}/runs", "porch-list-rule-runs", scope=None, front=False)
async def porch_list_rule_runs(req: Request) -> Response:
    """The rule's audit, newest first: each event it looked at, whether its conditions held,
    and what each action did (``?before=<run id>`` pages back)."""
    rule = await domain.access_rule_admin(
        req.db, principal=req.principal, ref=req.path_params["rule_id"], deleted=True
    )
    before_raw = req.query_one("before")
    if before_raw is not None and not before_raw.isdigit():
        raise BadRequest("before must be a run id")
    rows = await domain.list_runs(
        req.db,
        principal=req.principal,
        rule=rule,
        before=int(before_raw) if before_raw is not None else None,
        limit=read_limit(req),
    )
    return collection(req, [run_json(r) for r in rows])
