"""Editing a rule's definition in place: ``PATCH /porch/rules/{id}`` (checked as a new rule
is, a bad one changing nothing) and ``porch rules update``; the engine runs the new definition
from the next event on."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.conftest import Company
from tests.test_cli_admin import Cli, cli  # noqa: F401 - the CLI fixture
from tests.test_rules import create_rule, custom_channel, receive, tag, tag_names, wait_for


def _definition(rule: dict[str, Any]) -> dict[str, Any]:
    return {
        k: rule[k] for k in ("name", "is_enabled", "triggers", "match", "conditions", "actions")
    }


def test_a_rules_definition_is_replaced_and_runs_from_then_on(dunder_mifflin: Company) -> None:
    api = dunder_mifflin.api
    channel, _ = custom_channel(dunder_mifflin)
    paper, other = tag(api, "Paper"), tag(api, "Other")
    rule = create_rule(
        api,
        name="Sort",
        triggers=[{"type": "inbound_message"}],
        actions=[{"type": "tag", "tag_ids": [other]}],
    )
    first = receive(api, channel, "jan", "Hello")
    wait_for(lambda: "Other" in tag_names(api, first))

    edited = api.ok(
        "PATCH",
        f"/porch/rules/{rule['id']}",
        json={
            "name": "Sort paper",
            "conditions": [{"type": "body", "contains": "paper"}],
            "actions": [{"type": "tag", "tag_ids": [paper]}],
        },
    )
    assert edited["name"] == "Sort paper"
    assert edited["triggers"] == [{"type": "inbound_message"}]  # not sent: kept
    assert edited["conditions"] == [{"type": "body", "contains": "paper"}]
    assert edited["actions"] == [{"type": "tag", "tag_ids": [paper]}]
    assert api.ok("GET", f"/porch/rules/{rule['id']}") == edited
    assert api.ok("GET", f"/rules/{rule['id']}")["actions"] == ["Tag with Paper"]
    # The engine runs the new definition on the next events.
    about_paper = receive(api, channel, "pam", "We need paper")
    wait_for(lambda: "Paper" in tag_names(api, about_paper))
    assert "Other" not in tag_names(api, about_paper)
    chatter = receive(api, channel, "kevin", "Chili today")
    wait_for(lambda: any(r["conversation_id"] == chatter for r in _runs(api, rule["id"])))
    assert tag_names(api, chatter) == set()
    # The change is in the log with the new definition (the company has this one rule).
    logged = api.ok("GET", "/porch/events", params={"q[types]": "rule_updated"})["_results"]
    assert len(logged) == 1 and logged[0]["data"]["name"] == "Sort paper"
    assert logged[0]["data"]["definition"]["actions"] == edited["actions"]
    # Sending the same definition again changes nothing and logs nothing.
    again = api.ok("PATCH", f"/porch/rules/{rule['id']}", json={"actions": edited["actions"]})
    assert again == edited
    after = api.ok("GET", "/porch/events", params={"q[types]": "rule_updated"})["_results"]
    assert after == logged


def _runs(api: Any, rule_id: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = api.ok("GET", f"/porch/rules/{rule_id}/runs")["_results"]
    return found


def test_a_bad_definition_is_refused_and_changes_nothing(
    dunder_mifflin: Company, vance_refrigeration: Company
) -> None:
    api = dunder_mifflin.api
    urgent = tag(api, "Urgent")
    rule = create_rule(
        api,
        name="Urgent",
        triggers=[{"type": "inbound_message"}],
        conditions=[{"type": "subject", "contains": "urgent"}],
        actions=[{"type": "tag", "tag_ids": [urgent]}],
    )
    path = f"/porch/rules/{rule['id']}"
    before = api.ok("GET", path)
    bad: list[dict[str, Any]] = [
        {"actions": [{"type": "launch_rocket"}]},
        {"actions": [{"type": "tag", "tag_ids": ["tag_zzzzzz"]}]},
        {"actions": []},
        {"triggers": []},
        {"triggers": [{"type": "unreplied"}]},
        {"conditions": None},
        {"conditions": [{"type": "body", "matches": "(a+)+"}]},
        {"match": "most"},
        {"owner": {"team_id": dunder_mifflin.team_id}},
        # A good name does not carry a bad definition through.
        {"name": "Renamed", "actions": [{"type": "tag"}]},
        {"name": ""},
        {"is_enabled": "yes"},
    ]
    for body in bad:
        resp = api.patch(path, json=body)
        assert resp.status_code == 400, (body, resp.text)
        error = resp.json()["_error"]
        assert error["status"] == 400 and error["title"] and error["message"], body
        assert isinstance(error["details"], list) and error["details"], body
    assert api.ok("GET", path) == before
    # Only the company's provisioning tokens manage rules.
    assert vance_refrigeration.api.patch(path, json={"name": "Mine"}).status_code == 404
    shared = dunder_mifflin.client(dunder_mifflin.token(namespaces=["shared"]))
    assert shared.patch(path, json={"name": "Mine"}).status_code == 403
    assert api.ok("GET", path) == before


def test_porch_rules_update_replaces_the_definition(cli: Cli, tmp_path: Path) -> None:  # noqa: F811
    made = cli.json("init", "--company", "Dunder Mifflin", "--admin-email", "michael@dm.com")
    assert made["company_id"]
    source = tmp_path / "rule.json"
    source.write_text(
        json.dumps(
            {
                "name": "Archive spam",
                "triggers": [{"type": "inbound_message"}],
                "conditions": [{"type": "body", "contains": "viagra"}],
                "actions": [{"type": "archive"}],
            }
        )
    )
    created = cli.ok("rules", "create", "--file", str(source))
    rule_id = created.strip().rsplit(" ", 1)[-1]
    assert rule_id.startswith("rul_")
    # What ``show`` prints, edited, goes back in.
    shown = json.loads(cli.ok("rules", "show", rule_id))
    shown["conditions"] = [{"type": "body", "contains": "casino"}]
    shown["actions"] = [{"type": "mark_spam"}]
    shown["name"] = "Spam"
    source.write_text(json.dumps(shown))
    assert "updated" in cli.ok("rules", "update", rule_id, "--file", str(source))
    after = json.loads(cli.ok("rules", "show", rule_id))
    assert _definition(after) == {
        **_definition(shown),
        "conditions": [{"type": "body", "contains": "casino"}],
        "actions": [{"type": "mark_spam"}],
    }
    # A bad definition is refused with its problems and changes nothing.
    source.write_text(json.dumps({"actions": [{"type": "launch_rocket"}]}))
    refused = cli.refused("rules", "update", rule_id, "--file", str(source))
    assert "launch_rocket" in refused or "actions[0]" in refused
    source.write_text(json.dumps({"owner": {"team_id": "tim_1"}}))
    assert "owner" in cli.refused("rules", "update", rule_id, "--file", str(source))
    assert _definition(json.loads(cli.ok("rules", "show", rule_id))) == _definition(after)
