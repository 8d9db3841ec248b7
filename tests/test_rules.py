"""The rules engine through HTTP: rules are saved through /porch/rules, messages arrive through
custom channels, and what the rules did is read back through the API and the event log."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from tests.conftest import Api, Company

DEADLINE = 15.0


def wait_for(what: Callable[[], Any], timeout: float = DEADLINE) -> Any:
    """Poll ``what`` until it returns something truthy (bounded by ``timeout``)."""
    deadline = time.monotonic() + timeout
    while True:
        found = what()
        if found:
            return found
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.05)


def custom_channel(company: Company, name: str = "Support") -> tuple[str, str]:
    """A custom channel in a new team inbox: (channel id, inbox id)."""
    api = company.api
    inbox = api.ok("POST", f"/teams/{company.team_id}/inboxes", 201, json={"name": name})
    api.ok("POST", f"/inboxes/{inbox['id']}/channels", 204, json={"type": "custom"})
    channel = api.ok("GET", f"/inboxes/{inbox['id']}/channels")["_results"][0]["id"]
    return channel, inbox["id"]


def receive(api: Api, channel: str, handle: str, body: str, **extra: Any) -> str:
    """Receive a message on a custom channel; the id of its conversation."""
    payload: dict[str, Any] = {"sender": {"handle": handle}, "body": body, **extra}
    answer = api.ok("POST", f"/channels/{channel}/incoming_messages", 202, json=payload)
    msg = api.message(answer["message_uid"])
    return str(msg["_links"]["related"]["conversation"].rsplit("/", 1)[1])


def create_rule(api: Api, **rule: Any) -> dict[str, Any]:
    body: dict[str, Any] = api.ok("POST", "/porch/rules", 201, json=rule)
    return body


def runs(api: Api, rule_id: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = api.ok("GET", f"/porch/rules/{rule_id}/runs")["_results"]
    return found


def tag(api: Api, name: str) -> str:
    return str(api.ok("POST", "/company/tags", 201, json={"name": name})["id"])


def tag_names(api: Api, conv: str) -> set[str]:
    return {t["name"] for t in api.ok("GET", f"/conversations/{conv}")["tags"]}


def teammate(api: Api, email: str, first: str, **extra: Any) -> str:
    body = {"email": email, "first_name": first, **extra}
    return str(api.ok("POST", "/porch/teammates", 201, json=body)["id"])


def test_an_inbound_message_is_assigned_to_the_account_owner(dunder_mifflin: Company) -> None:
    api = dunder_mifflin.api
    channel, _ = custom_channel(dunder_mifflin)
    pam = teammate(api, "pam@dundermifflin.com", "Pam")
    api.ok(
        "POST",
        "/porch/custom_fields",
        201,
        json={"object_type": "contact", "name": "Account owner", "type": "string"},
    )
    api.ok(
        "POST",
        "/contacts",
        201,
        json={
            "name": "Jan Levinson",
            "handles": [{"source": "custom", "handle": "jan"}],
            "custom_fields": {"Account owner": "Pam@DunderMifflin.com"},
        },
    )
    rule = create_rule(
        api,
        name="Account owners",
        triggers=[{"type": "inbound_message"}],
        actions=[{"type": "assign_from_contact_field", "field": "Account owner"}],
    )
    conv = receive(api, channel, "jan", "Where is my order?")
    wait_for(lambda: api.ok("GET", f"/conversations/{conv}").get("assignee"))
    assert api.ok("GET", f"/conversations/{conv}")["assignee"]["id"] == pam

    # The assign event names the rule as its source, as Front's events do.
    events = api.ok("GET", f"/conversations/{conv}/events")["_results"]
    [assign] = [e for e in events if e["type"] == "assign"]
    assert assign["source"]["_meta"]["type"] == "rule"
    # And the audit tells which rule did what.
    [run] = runs(api, rule["id"])
    assert run["outcome"] == "matched" and run["conversation_id"] == conv
    assert run["actions"] == [{"type": "assign_from_contact_field", "ok": True}]

    # A sender without an owner: the rule runs, the action records why it did nothing.
    other = receive(api, channel, "kevin", "Hi")
    wait_for(lambda: len(runs(api, rule["id"])) == 2)
    assert api.ok("GET", f"/conversations/{other}")["assignee"] is None
    assert runs(api, rule["id"])[0]["actions"][0]["ok"] is False


def test_conditions_decide_which_conversations_a_rule_acts_on(dunder_mifflin: Company) -> None:
    api = dunder_mifflin.api
    channel, inbox = custom_channel(dunder_mifflin)
    urgent = tag(api, "Urgent")
    rule = create_rule(
        api,
        name="Urgent orders",
        triggers=[{"type": "inbound_message"}],
        match="all",
        conditions=[
            {"type": "inbox", "inbox_ids": [inbox]},
            {"type": "channel", "channel_ids": [channel]},
            {
                "type": "any",
                "conditions": [
                    {"type": "subject", "contains": "URGENT"},
                    {"type": "body", "matches": r"order\s+#\d+"},
                ],
            },
            {"type": "sender", "handles": ["jan", "david"]},
            {"type": "assignee", "is_assigned": False},
            {"type": "tags", "tag_ids": [urgent], "mode": "none"},
        ],
        actions=[{"type": "tag", "tag_ids": [urgent]}],
    )
    by_subject = receive(api, channel, "jan", "hello", subject="Urgent: paper")
    by_body = receive(api, channel, "david", "About order  #42 please")
    not_matching = receive(api, channel, "jan", "just saying hi", metadata={"thread_ref": "x"})
    stranger = receive(api, channel, "toby", "order #7")
    wait_for(lambda: len(runs(api, rule["id"])) == 4)
    assert tag_names(api, by_subject) == {"Urgent"}
    assert tag_names(api, by_body) == {"Urgent"}
    assert tag_names(api, not_matching) == set()
    assert tag_names(api, stranger) == set()
    outcomes = sorted(r["outcome"] for r in runs(api, rule["id"]))
    assert outcomes == ["matched", "matched", "not_matched", "not_matched"]


def test_contact_list_contact_field_conversation_field_and_business_hours(
    dunder_mifflin: Company,
) -> None:
    api = dunder_mifflin.api
    channel, _ = custom_channel(dunder_mifflin)
    vip = tag(api, "VIP")
    api.ok(
        "POST",
        "/porch/custom_fields",
        201,
        json={"object_type": "contact", "name": "Tier", "type": "string"},
    )
    api.ok(
        "POST",
        "/porch/custom_fields",
        201,
        json={"object_type": "conversation", "name": "Priority", "type": "string"},
    )
    api.ok("POST", f"/teams/{dunder_mifflin.team_id}/contact_lists", 204, json={"name": "Key"})
    lists = api.ok("GET", f"/teams/{dunder_mifflin.team_id}/contact_lists")["_results"]
    jan = api.ok(
        "POST",
        "/contacts",
        201,
        json={
            "handles": [{"source": "custom", "handle": "jan"}],
            "custom_fields": {"Tier": "Gold"},
        },
    )
    api.ok(
        "POST", f"/contact_lists/{lists[0]['id']}/contacts", 204, json={"contact_ids": [jan["id"]]}
    )
    every_hour = {
        d: [["00:00", "24:00"]] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
    }
    first = create_rule(
        api,
        name="Key accounts get a priority",
        triggers=[{"type": "inbound_message"}],
        conditions=[
            {"type": "contact_list", "contact_list_ids": [lists[0]["id"]]},
            {"type": "contact_field", "field": "Tier", "equals": "gold"},
            {"type": "business_hours", "timezone": "America/New_York", "hours": every_hour},
        ],
        actions=[{"type": "set_conversation_field", "field": "Priority", "value": "High"}],
    )
    second = create_rule(
        api,
        name="High priority is VIP",
        triggers=[{"type": "inbound_message"}],
        conditions=[
            {"type": "conversation_field", "field": "Priority", "equals": "High"},
            {"type": "business_hours", "timezone": "UTC", "hours": {}, "inside": False},
        ],
        actions=[{"type": "tag", "tag_ids": [vip]}],
    )
    conv = receive(api, channel, "jan", "hello")
    other = receive(api, channel, "kevin", "hello")
    wait_for(lambda: len(runs(api, first["id"])) == 2 and len(runs(api, second["id"])) == 2)
    assert api.ok("GET", f"/conversations/{conv}")["custom_fields"] == {"Priority": "High"}
    assert api.ok("GET", f"/conversations/{other}")["custom_fields"] == {}
    # Rules run in order on one event: the second saw the field the first one set.
    assert tag_names(api, conv) == {"VIP"} and tag_names(api, other) == set()


def test_every_trigger_fires_on_its_event(dunder_mifflin: Company) -> None:
    api = dunder_mifflin.api
    channel, inbox = custom_channel(dunder_mifflin)
    _, elsewhere = custom_channel(dunder_mifflin, "Elsewhere")
    manual = tag(api, "manual")
    triggers: dict[str, dict[str, Any]] = {
        "inbound_message": {},
        "outbound_message": {},
        "new_comment": {},
        "tag_added": {"tag_ids": [manual]},
        "tag_removed": {"tag_ids": [manual]},
        "assigned": {},
        "unassigned": {},
        "moved": {"inbox_ids": [elsewhere]},
        "archived": {},
        "reopened": {},
    }
    for name, extra in triggers.items():
        marker = tag(api, f"on {name}")
        create_rule(
            api,
            name=name,
            triggers=[{"type": name, **extra}],
            actions=[{"type": "tag", "tag_ids": [marker]}],
        )
    conv = receive(api, channel, "jan", "hello")
    wait_for(lambda: "on inbound_message" in tag_names(api, conv))
    api.ok(
        "POST",
        f"/conversations/{conv}/messages",
        202,
        json={"to": ["jan"], "body": "Hi Jan", "options": {"archive": False}},
    )
    api.ok("POST", f"/conversations/{conv}/comments", 201, json={"body": "note"})
    api.ok("POST", f"/conversations/{conv}/tags", 204, json={"tag_ids": [manual]})
    api.ok("DELETE", f"/conversations/{conv}/tags", 204, json={"tag_ids": [manual]})
    admin = dunder_mifflin.admin_id
    api.ok("PUT", f"/conversations/{conv}/assignee", 204, json={"assignee_id": admin})
    api.ok("PUT", f"/conversations/{conv}/assignee", 204, json={"assignee_id": None})
    api.ok("PATCH", f"/conversations/{conv}", 204, json={"inbox_id": elsewhere})
    api.ok("PATCH", f"/conversations/{conv}", 204, json={"status": "archived"})
    api.ok("PATCH", f"/conversations/{conv}", 204, json={"status": "open"})
    want = {f"on {name}" for name in triggers}
    wait_for(lambda: want <= tag_names(api, conv))


def test_a_rule_loop_stops_after_the_chain_bound(dunder_mifflin: Company) -> None:
    api = dunder_mifflin.api
    channel, _ = custom_channel(dunder_mifflin)
    x, y = tag(api, "X"), tag(api, "Y")
    flip = create_rule(
        api,
        name="X becomes Y",
        triggers=[{"type": "tag_added", "tag_ids": [x]}],
        actions=[{"type": "untag", "tag_ids": [x]}, {"type": "tag", "tag_ids": [y]}],
    )
    flop = create_rule(
        api,
        name="Y brings X back",
        triggers=[{"type": "tag_added", "tag_ids": [y]}],
        actions=[{"type": "untag", "tag_ids": [y]}, {"type": "tag", "tag_ids": [x]}],
    )
    conv = receive(api, channel, "jan", "hello")
    api.ok("POST", f"/conversations/{conv}/tags", 204, json={"tag_ids": [x]})

    def stopped() -> bool:
        every = runs(api, flip["id"]) + runs(api, flop["id"])
        return any(r["outcome"] == "chain_limit" for r in every)

    wait_for(stopped)
    every = runs(api, flip["id"]) + runs(api, flop["id"])
    assert sorted(r["depth"] for r in every) == [0, 1, 2, 3, 4, 5]
    # Nothing more happens once the bound is reached.
    tags_then = len(
        [e for e in api.all_pages(f"/conversations/{conv}/events") if e["type"] == "tag"]
    )
    time.sleep(0.6)  # a few consumer polls: asserting that nothing else happens needs a wait
    events = api.all_pages(f"/conversations/{conv}/events")
    assert len([e for e in events if e["type"] == "tag"]) == tags_then == 6


def test_unreplied_fires_after_the_delay_unless_a_reply_came(dunder_mifflin: Company) -> None:
    api = dunder_mifflin.api
    channel, _ = custom_channel(dunder_mifflin)
    rule = create_rule(
        api,
        name="Nudge",
        triggers=[{"type": "unreplied", "minutes": 0.02}],
        actions=[{"type": "comment", "body": "Nobody answered yet"}],
    )
    waiting = receive(api, channel, "jan", "hello?")
    answered = receive(api, channel, "david", "hello?")
    api.ok(
        "POST",
        f"/conversations/{answered}/messages",
        202,
        json={"to": ["david"], "body": "Hi David", "options": {"archive": False}},
    )
    wait_for(lambda: api.ok("GET", f"/conversations/{waiting}/comments")["_results"])
    [comment] = api.ok("GET", f"/conversations/{waiting}/comments")["_results"]
    assert comment["body"] == "Nobody answered yet"
    [run] = runs(api, rule["id"])
    assert run["kind"] == "timer" and run["conversation_id"] == waiting
    time.sleep(1.5)  # past the answered conversation's delay: its timer was cleared
    assert api.ok("GET", f"/conversations/{answered}/comments")["_results"] == []
    assert len(runs(api, rule["id"])) == 1


def test_team_assignment_round_robin_and_least_loaded(dunder_mifflin: Company) -> None:
    api = dunder_mifflin.api
    channel, _ = custom_channel(dunder_mifflin)
    team = dunder_mifflin.team_id
    jim = teammate(api, "jim@dundermifflin.com", "Jim", team_ids=[team])
    dwight = teammate(api, "dwight@dundermifflin.com", "Dwight", team_ids=[team])
    # Michael (the admin) is in the team too, but unavailable for assignment here.
    api.ok("PATCH", f"/teammates/{dunder_mifflin.admin_id}", 204, json={"is_available": False})
    create_rule(
        api,
        name="Share the work",
        triggers=[{"type": "inbound_message"}],
        actions=[{"type": "assign_team", "team_id": team, "strategy": "round_robin"}],
    )
    convs = [receive(api, channel, f"customer{i}", "hi") for i in range(3)]

    def assignees() -> list[str] | None:
        found = [api.ok("GET", f"/conversations/{c}")["assignee"] for c in convs]
        return [a["id"] for a in found] if all(found) else None

    got = wait_for(assignees)
    assert got[0] != got[1] and got[2] == got[0] and set(got) == {jim, dwight}

    # Least loaded: whoever of them has fewer open conversations gets the next one.
    busier = got[0]
    rules = api.ok("GET", "/porch/rules")["_results"]
    api.ok("PATCH", f"/porch/rules/{rules[0]['id']}", 200, json={"is_enabled": False})
    create_rule(
        api,
        name="Balance",
        triggers=[{"type": "inbound_message"}],
        actions=[{"type": "assign_team", "team_id": team, "strategy": "least_loaded"}],
    )
    nxt = receive(api, channel, "customer9", "hi")
    wait_for(lambda: api.ok("GET", f"/conversations/{nxt}")["assignee"])
    assert api.ok("GET", f"/conversations/{nxt}")["assignee"]["id"] != busier


def test_reply_comment_move_and_spam_actions(dunder_mifflin: Company) -> None:
    api = dunder_mifflin.api
    channel, _ = custom_channel(dunder_mifflin)
    _, orders = custom_channel(dunder_mifflin, "Orders")
    folder = api.ok(
        "POST",
        f"/teams/{dunder_mifflin.team_id}/message_template_folders",
        201,
        json={"name": "Auto"},
    )
    template = api.ok(
        "POST",
        f"/message_template_folders/{folder['id']}/message_templates",
        201,
        json={"name": "Thanks", "body": "Thanks, we got your order."},
    )
    create_rule(
        api,
        name="Orders",
        triggers=[{"type": "inbound_message"}],
        conditions=[{"type": "body", "contains": "order"}],
        actions=[
            {"type": "reply_template", "template_id": template["id"]},
            {"type": "comment", "body": "Auto-acknowledged"},
            {"type": "move", "inbox_id": orders},
        ],
    )
    spam_rule = create_rule(
        api,
        name="Spam",
        triggers=[{"type": "inbound_message"}],
        conditions=[{"type": "body", "matches": r"\bviagra\b"}],
        actions=[{"type": "mark_spam"}],
    )
    order = receive(api, channel, "jan", "I want to order paper")
    spam = receive(api, channel, "spammer", "cheap VIAGRA here")

    def replied() -> list[dict[str, Any]]:
        msgs = api.ok("GET", f"/conversations/{order}/messages")["_results"]
        return [m for m in msgs if not m["is_inbound"]]

    [reply] = wait_for(replied)
    assert "Thanks, we got your order." in reply["body"]
    assert [r["handle"] for r in reply["recipients"] if r["role"] == "to"] == ["jan"]
    wait_for(lambda: api.ok("GET", f"/conversations/{order}/comments")["_results"])
    wait_for(
        lambda: api.ok("GET", f"/conversations/{order}/inboxes")["_results"][0]["id"] == orders
    )
    # Spam is a state of its own in Porch; Front's status shows it as "deleted".
    wait_for(lambda: api.ok("GET", f"/conversations/{spam}")["status"] == "deleted")
    assert api.ok("GET", f"/conversations/{order}")["status"] == "unassigned"
    [spam_run] = [r for r in runs(api, spam_rule["id"]) if r["outcome"] == "matched"]
    assert spam_run["conversation_id"] == spam and spam_run["actions"][0]["ok"] is True


def test_front_reads_rules_with_readable_actions(
    dunder_mifflin: Company, vance_refrigeration: Company
) -> None:
    api = dunder_mifflin.api
    urgent = tag(api, "Urgent")
    pam = teammate(api, "pam@dundermifflin.com", "Pam", last_name="Beesly")
    company_rule = create_rule(
        api,
        name="Scranton",
        triggers=[{"type": "inbound_message"}],
        actions=[{"type": "assign", "teammate_id": pam}, {"type": "tag", "tag_ids": [urgent]}],
    )
    team_rule = create_rule(
        api,
        name="Sales team",
        owner={"team_id": dunder_mifflin.team_id},
        triggers=[{"type": "new_comment"}],
        actions=[{"type": "archive"}],
    )
    got = api.ok("GET", f"/rules/{company_rule['id']}")
    assert got["actions"] == ["Assign to Pam Beesly", "Tag with Urgent"]
    assert got["is_private"] is False and got["name"] == "Scranton"
    assert {r["id"] for r in api.ok("GET", "/rules")["_results"]} == {
        company_rule["id"],
        team_rule["id"],
    }
    assert [r["id"] for r in api.ok("GET", "/company/rules")["_results"]] == [company_rule["id"]]
    team_rules = api.ok("GET", f"/teams/{dunder_mifflin.team_id}/rules")["_results"]
    assert [r["id"] for r in team_rules] == [team_rule["id"]]
    assert team_rules[0]["_links"]["related"]["owner"].endswith(dunder_mifflin.team_id)
    api.ok("PATCH", f"/porch/teammates/{pam}", 200, json={"api_private_access": True})
    assert api.ok("GET", f"/teammates/{pam}/rules")["_results"] == []
    # Another company sees none of it.
    other = vance_refrigeration.api
    assert other.get(f"/rules/{company_rule['id']}").status_code == 404
    assert other.ok("GET", "/rules")["_results"] == []
    assert other.get(f"/porch/rules/{company_rule['id']}").status_code == 404
    # Deleting a rule removes it from the lists; its audit stays.
    api.ok("DELETE", f"/porch/rules/{team_rule['id']}", 204)
    assert api.get(f"/rules/{team_rule['id']}").status_code == 404
    assert api.ok("GET", f"/porch/rules/{team_rule['id']}/runs")["_results"] == []


def test_bad_rule_definitions_are_400_and_save_nothing(dunder_mifflin: Company) -> None:
    api = dunder_mifflin.api
    good: dict[str, Any] = {
        "name": "ok",
        "triggers": [{"type": "inbound_message"}],
        "actions": [{"type": "archive"}],
    }
    bad = [
        {**good, "name": ""},
        {**good, "triggers": []},
        {**good, "triggers": [{"type": "when_pigs_fly"}]},
        {**good, "triggers": [{"type": "unreplied"}]},
        {**good, "triggers": [{"type": "inbound_message", "minutes": 5}]},
        {**good, "actions": [{"type": "launch_rocket"}]},
        {**good, "actions": [{"type": "tag", "tag_ids": ["tag_zzzzzz"]}]},
        {**good, "actions": [{"type": "assign", "teammate_id": "tea_zzzzz", "typo": 1}]},
        {**good, "actions": [{"type": "webhook", "url": "ftp://example.com/x"}]},
        {**good, "conditions": [{"type": "body", "matches": "(a+)+$"}]},
        {**good, "conditions": [{"type": "body", "matches": "([unclosed"}]},
        {**good, "conditions": [{"type": "body", "contains": "a", "matches": "b"}]},
        {
            **good,
            "conditions": [{"type": "business_hours", "timezone": "Mars/Olympus", "hours": {}}],
        },
        {**good, "conditions": [{"type": "contact_field", "field": "Nope", "is_set": True}]},
        {**good, "match": "most"},
        {**good, "owner": {"team_id": "tim_zzzzzz"}},
    ]
    for body in bad:
        resp = api.post("/porch/rules", json=body)
        assert resp.status_code in (400, 404), (body, resp.text)
        assert resp.json()["_error"]["status"] == resp.status_code
    assert api.ok("GET", "/porch/rules")["_results"] == []
    # A rule naming a missing tag is a bad definition: 400 with the reason.
    resp = api.post("/porch/rules", json=bad[6])
    assert resp.status_code == 400 and "tag_zzzzzz" in str(resp.json()["_error"])
    # Only provisioning tokens manage rules.
    shared = dunder_mifflin.client(dunder_mifflin.token(namespaces=["shared"]))
    assert shared.post("/porch/rules", json=good).status_code == 403
    assert shared.ok("GET", "/rules")["_results"] == []


def test_a_disabled_rule_does_nothing(dunder_mifflin: Company) -> None:
    api = dunder_mifflin.api
    channel, _ = custom_channel(dunder_mifflin)
    off = tag(api, "off")
    rule = create_rule(
        api,
        name="Off",
        is_enabled=False,
        triggers=[{"type": "inbound_message"}],
        actions=[{"type": "tag", "tag_ids": [off]}],
    )
    marker = tag(api, "marker")
    create_rule(
        api,
        name="Marker",
        triggers=[{"type": "inbound_message"}],
        actions=[{"type": "tag", "tag_ids": [marker]}],
    )
    conv = receive(api, channel, "jan", "hello")
    wait_for(lambda: "marker" in tag_names(api, conv))
    assert "off" not in tag_names(api, conv)
    assert runs(api, rule["id"]) == []
    assert api.ok("GET", f"/porch/rules/{rule['id']}")["is_enabled"] is False


def test_a_rule_sends_its_webhook_signed_with_the_api_secret(dunder_mifflin: Company) -> None:
    from tests.webhook_receiver import Receiver, rule_signature_ok

    api = dunder_mifflin.api
    # The receiver listens on loopback, which webhooks refuse unless the company allows it.
    api.ok("PATCH", "/porch/company", 200, json={"allow_private_webhook_targets": True})
    receiver = Receiver()
    try:
        channel, _ = custom_channel(dunder_mifflin)
        rule = create_rule(
            api,
            name="Tell the CRM",
            triggers=[{"type": "inbound_message"}],
            actions=[
                {"type": "webhook", "url": receiver.url},
                {"type": "webhook", "url": receiver.url + "/preview", "preview": True},
            ],
        )
        conv = receive(api, channel, "jan@levinson.example", "Call me back")
        hits = receiver.wait(lambda h: len(h) >= 2)
        secret = api.ok("GET", "/porch/company/api_secret")["api_secret"]
        assert all(rule_signature_ok(secret, hit) for hit in hits)
        bodies = [hit.json() for hit in hits]
        assert {b["type"] for b in bodies} == {"inbound"}
        assert {b["conversation"]["id"] for b in bodies} == {conv}
        # The full event carries the whole conversation; the preview only its id and links.
        sizes = sorted(len(b["conversation"]) for b in bodies)
        assert sizes[0] <= 3 < sizes[1]
        assert any("webhook" in str(r).lower() for r in runs(api, rule["id"]))
    finally:
        receiver.close()


def test_imports_skip_rules_unless_they_ask_for_them(dunder_mifflin: Company) -> None:
    api = dunder_mifflin.api
    _, inbox = custom_channel(dunder_mifflin)
    marker = tag(api, "ruled")
    rule = create_rule(
        api,
        name="Tag inbound",
        triggers=[{"type": "inbound_message"}],
        actions=[{"type": "tag", "tag_ids": [marker]}],
    )

    def imported(external_id: str, **metadata: Any) -> str:
        payload = {
            "sender": {"handle": f"{external_id}@example.com"},
            "to": ["sales@dundermifflin.com"],
            "body": "From the old helpdesk",
            "external_id": external_id,
            "created_at": 1_700_000_000,
            "metadata": {"is_inbound": True, **metadata},
        }
        uid = api.ok("POST", f"/inboxes/{inbox}/imported_messages", 202, json=payload)
        msg = api.message(uid["message_uid"])
        return str(msg["_links"]["related"]["conversation"].rsplit("/", 1)[1])

    quiet = imported("old-1")  # Front's default: should_skip_rules true
    ruled = imported("old-2", should_skip_rules=False)
    wait_for(lambda: "ruled" in tag_names(api, ruled))
    # The rule saw the second import; by then the first, earlier in the log, was passed over.
    assert "ruled" not in tag_names(api, quiet)
    assert len(runs(api, rule["id"])) == 1


def test_rule_caused_events_show_the_rule_as_their_source(dunder_mifflin: Company) -> None:
    from tests.webhook_receiver import Receiver

    api = dunder_mifflin.api
    api.ok("PATCH", "/porch/company", 200, json={"allow_private_webhook_targets": True})
    receiver = Receiver()
    try:
        channel, _ = custom_channel(dunder_mifflin)
        urgent = tag(api, "Urgent")
        tagger = create_rule(
            api,
            name="Urgent when angry",
            triggers=[{"type": "inbound_message"}],
            conditions=[{"type": "body", "contains": "angry"}],
            actions=[{"type": "tag", "tag_ids": [urgent]}],
        )
        # A second rule forwards the first one's tag event to a rule webhook.
        create_rule(
            api,
            name="Tell the CRM about urgent ones",
            triggers=[{"type": "tag_added", "tag_ids": [urgent]}],
            actions=[{"type": "webhook", "url": receiver.url}],
        )
        conv = receive(api, channel, "jan", "I am angry about the paper")
        shown = api.ok("GET", f"/rules/{tagger['id']}")
        want = {"_meta": {"type": "rule"}, "data": shown}

        def tag_events() -> list[dict[str, Any]]:
            found = api.ok("GET", "/events", params={"q[types]": "tag"})["_results"]
            return [e for e in found if e.get("conversation", {}).get("id") == conv]

        [event] = wait_for(tag_events)
        assert event["source"] == want
        assert shown["name"] == "Urgent when angry" and shown["actions"]
        in_conversation = api.all_pages(f"/conversations/{conv}/events")
        assert [e["source"] for e in in_conversation if e["type"] == "tag"] == [want]
        # What a token caused has no source data.
        [inbound] = [e for e in in_conversation if e["type"] == "inbound"]
        assert inbound["source"] == {"_meta": {"type": "api"}}
        # The webhook's body is the same event, its rule included (links under the public URL).
        [hit] = receiver.wait(lambda h: len(h) >= 1)
        assert hit.json()["id"] == event["id"]
        sent = hit.json()["source"]
        assert sent["_meta"] == {"type": "rule"}
        assert {k: v for k, v in sent["data"].items() if k != "_links"} == {
            k: v for k, v in shown.items() if k != "_links"
        }
        assert sent["data"]["_links"]["self"].endswith(f"/rules/{tagger['id']}")
        # A deleted rule's events still show it.
        api.ok("DELETE", f"/porch/rules/{tagger['id']}", 204)
        assert api.ok("GET", f"/events/{event['id']}")["source"] == want
    finally:
        receiver.close()
