"""``porch rules list|create|show|update|enable|disable|delete``: rules from the command line, as
the company's administrator, with the JSON definition of docs/rules.md."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from porch import ids
from porch.cli.common import add_data_dir, fail
from porch.cli.teams import run_as_admin
from porch.domain import rules as domain
from porch.domain.errors import BadRequest
from porch.domain.principal import Principal
from porch.store.db import Database
from porch.store.rules import Rule


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("rules", help="manage rules")
    rsub = p.add_subparsers(dest="rules_cmd", required=True)
    ls = rsub.add_parser("list", help="list the company's rules")
    c = rsub.add_parser("create", help="create a rule from a JSON file (docs/rules.md)")
    c.add_argument("--file", required=True, type=Path, help="the rule as JSON ('-' for stdin)")
    c.set_defaults(func=create)
    ls.set_defaults(func=list_)
    u = rsub.add_parser(
        "update",
        help="replace a rule's definition (and name, is_enabled) with those of a JSON file",
    )
    u.add_argument("rule_id", help="rul_…")
    u.add_argument(
        "--file",
        required=True,
        type=Path,
        help="the rule as JSON ('-' for stdin); what `porch rules show` prints will do",
    )
    u.set_defaults(func=update)
    for name, func, what in (
        ("show", show, "show a rule and its latest runs"),
        ("enable", enable, "enable a rule"),
        ("disable", disable, "disable a rule"),
        ("delete", delete, "delete a rule (its audit stays)"),
    ):
        s = rsub.add_parser(name, help=what)
        s.add_argument("rule_id", help="rul_…")
        s.set_defaults(func=func)
    for s in (ls, c, u, *[rsub.choices[n] for n in ("show", "enable", "disable", "delete")]):
        add_data_dir(s)
        s.add_argument("--company", default=None, help="cmp_… or the company's name")


def _json(rule: Rule) -> dict[str, Any]:
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
        **rule.spec,
    }


def list_(args: argparse.Namespace) -> None:
    async def action(db: Database, principal: Principal) -> list[Rule]:
        return await domain.all_rules(db, principal=principal)

    for r in run_as_admin(args, action):
        state = "enabled" if r.is_enabled else "disabled"
        print(f"{ids.encode(ids.RULE, r.id)}\t{state}\t{r.name}")


def _read(path: Path) -> dict[str, Any]:
    try:
        text = Path("/dev/stdin").read_text() if str(path) == "-" else path.read_text()
        data = json.loads(text)
    except (OSError, ValueError) as exc:
        fail(f"cannot read the rule: {exc}")
    if not isinstance(data, dict):
        fail("the rule must be a JSON object")
    return data


def create(args: argparse.Namespace) -> None:
    data = _read(args.file)
    if not isinstance(data.get("name"), str):
        fail("the rule must be a JSON object with a name")

    async def action(db: Database, principal: Principal) -> Rule:
        owner = await domain.owner_of(db, principal=principal, raw=data.get("owner"))
        return await domain.do_create_rule(
            db,
            principal=principal,
            name=data["name"],
            owner=owner,
            is_enabled=bool(data.get("is_enabled", True)),
            definition={k: v for k, v in data.items() if k not in ("name", "is_enabled", "owner")},
        )

    rule = run_as_admin(args, action)
    print(f"Rule {rule.name!r} created: {ids.encode(ids.RULE, rule.id)}")


# What ``show`` prints besides the rule's own fields: read-only, ignored by ``update``.
_SHOWN_ONLY = ("id", "actions_description", "latest_runs")


def update(args: argparse.Namespace) -> None:
    data = _read(args.file)
    unknown = sorted(
        set(data) - {"name", "is_enabled", "owner", *domain.DEFINITION_PARTS, *_SHOWN_ONLY}
    )
    if unknown:
        fail(f"unknown keys in the rule: {', '.join(unknown)}")
    if "name" in data and (not isinstance(data["name"], str) or not data["name"].strip()):
        fail("name must be a non-empty string")
    if "is_enabled" in data and not isinstance(data["is_enabled"], bool):
        fail("is_enabled must be true or false")

    async def action(db: Database, principal: Principal) -> Rule:
        rule = await domain.access_rule_admin(db, principal=principal, ref=args.rule_id)
        if "owner" in data and data["owner"] != _json(rule)["owner"]:
            fail("a rule's owner cannot be changed: create a new rule with the new owner")
        changes: dict[str, Any] = {}
        if "name" in data:
            changes["name"] = data["name"].strip()
        if "is_enabled" in data:
            changes["is_enabled"] = data["is_enabled"]
        try:
            return await domain.do_update_rule(
                db,
                principal=principal,
                rule=rule,
                changes=changes,
                definition={k: data[k] for k in domain.DEFINITION_PARTS if k in data},
            )
        except BadRequest as exc:
            fail("; ".join([exc.message, *exc.details]))

    rule = run_as_admin(args, action)
    print(f"Rule {ids.encode(ids.RULE, rule.id)} updated")


def show(args: argparse.Namespace) -> None:
    async def action(db: Database, principal: Principal) -> dict[str, Any]:
        rule = await domain.access_rule_admin(db, principal=principal, ref=args.rule_id)
        runs = await domain.list_runs(db, principal=principal, rule=rule, before=None, limit=20)
        return {
            **_json(rule),
            "actions_description": await domain.describe_actions(db, rule=rule),
            "latest_runs": [
                {
                    "event_id": ids.encode(ids.EVENT, r["event_id"]),
                    "kind": r["kind"],
                    "outcome": r["outcome"],
                    "actions": json.loads(r["actions"]),
                }
                for r in runs
            ],
        }

    print(json.dumps(run_as_admin(args, action), indent=2))


def _set_enabled(args: argparse.Namespace, enabled: bool) -> None:
    async def action(db: Database, principal: Principal) -> Rule:
        rule = await domain.access_rule_admin(db, principal=principal, ref=args.rule_id)
        return await domain.do_update_rule(
            db, principal=principal, rule=rule, changes={"is_enabled": enabled}
        )

    rule = run_as_admin(args, action)
    print(f"Rule {ids.encode(ids.RULE, rule.id)} {'enabled' if enabled else 'disabled'}")


def enable(args: argparse.Namespace) -> None:
    _set_enabled(args, True)


def disable(args: argparse.Namespace) -> None:
    _set_enabled(args, False)


def delete(args: argparse.Namespace) -> None:
    async def action(db: Database, principal: Principal) -> None:
        rule = await domain.access_rule_admin(db, principal=principal, ref=args.rule_id)
        await domain.do_delete_rule(db, principal=principal, rule=rule)

    run_as_admin(args, action)
    print(f"Rule {args.rule_id} deleted")
