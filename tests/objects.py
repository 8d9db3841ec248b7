"""One object of every kind in a company, for tests that walk every route."""

from __future__ import annotations

from typing import Any

from tests.conftest import Company


def one_of_everything(company: Company) -> dict[str, str]:
    """Create (through the API) one object of each kind and return path parameter values."""
    api = company.api
    team = company.team_id
    found: dict[str, str] = {"team_id": team, "teammate_id": company.admin_id}
    found["tag_id"] = api.ok("POST", "/company/tags", 201, json={"name": "walk"})["id"]
    inbox = api.ok("POST", f"/teams/{team}/inboxes", 201, json={"name": "Walk inbox"})
    found["inbox_id"] = inbox["id"]
    api.ok(
        "POST",
        f"/inboxes/{inbox['id']}/channels",
        204,
        json={"type": "smtp", "send_as": f"walk-{company.key}@example.com"},
    )
    found["channel_id"] = api.ok("GET", f"/inboxes/{inbox['id']}/channels")["_results"][0]["id"]
    found["signature_id"] = api.ok(
        "POST", f"/teams/{team}/signatures", 201, json={"name": "Walk", "body": "--"}
    )["id"]
    found["teammate_group_id"] = api.ok("POST", "/teammate_groups", 201, json={"name": "Walkers"})[
        "id"
    ]
    found["status_id"] = api.ok("GET", "/company/statuses")["_results"][0]["id"]
    found["event_id"] = api.ok("GET", "/porch/events")["_results"][0]["id"]
    found["token_id"] = api.ok("GET", "/porch/tokens")["_results"][0]["id"]
    found["field_id"] = api.ok(
        "POST",
        "/porch/custom_fields",
        201,
        json={"object_type": "teammate", "name": "Walk field", "type": "string"},
    )["id"]
    found["conversation_id"] = api.ok(
        "POST",
        "/conversations",
        201,
        json={"type": "task", "subject": "Walk", "inbox_id": inbox["id"]},
    )["id"]
    found["comment_id"] = api.ok(
        "POST", f"/conversations/{found['conversation_id']}/comments", 201, json={"body": "walk"}
    )["id"]
    found["link_id"] = api.ok(
        "POST", "/links", 201, json={"external_url": f"https://walk.test/{company.key}"}
    )["id"]
    # A comment with an attached file (it becomes the walk's comment, so that the pair of
    # /comments/{comment_id}/download/{attachment_link_id} belongs together).
    with_file = api.ok(
        "POST",
        f"/conversations/{found['conversation_id']}/comments",
        201,
        data={"body": "walk with a file"},
        files=[("attachments[]", ("walk.txt", b"walk", "text/plain"))],
    )
    found["comment_id"] = with_file["id"]
    found["attachment_link_id"] = with_file["attachments"][0]["id"]
    add_message(company, found)
    add_draft(company, found)
    add_contact_list_and_account(company, found)
    # The search route's {query}: a filter naming one of the company's objects.
    found["query"] = f"inbox:{found['inbox_id']}"
    add_message_template(company, found)
    add_webhook_objects(company, found)
    add_rule(company, found)
    # An application (OAuth client, trigger target); a grant id for its grants' routes (the
    # walk's application is another company's, so the grant is never reached).
    if "application_uid" not in found:
        app = api.ok("POST", "/porch/applications", 201, json={"name": "Walk app"})
        found["application_uid"] = app["uid"]
    found["grant_id"] = "oag_1"
    # The Channel API's external ids (the partner's names; none of them exists on the walk's
    # channel, which is not a partner channel).
    found.update(
        external_call_id="walk-call",
        conv_ext_id="walk-conv",
        message_ext_id="walk-msg",
        external_id="walk-template",
    )
    return found


def add_rule(company: Company, found: dict[str, str]) -> None:
    """A company rule tagging inbound conversations with the walk's tag, as ``rule_id``;
    disabled, so that it changes nothing while a walk compares the log before and after."""
    found["rule_id"] = company.api.ok(
        "POST",
        "/porch/rules",
        201,
        json={
            "name": "Walk rule",
            "is_enabled": False,
            "triggers": [{"type": "inbound_message"}],
            "actions": [{"type": "tag", "tag_ids": [found["tag_id"]]}],
        },
    )["id"]


def add_message_template(company: Company, found: dict[str, str]) -> None:
    """A team's template folder and a template in it, as ``message_template_folder_id`` and
    ``message_template_id``."""
    api = company.api
    folder = api.ok(
        "POST",
        f"/teams/{company.team_id}/message_template_folders",
        201,
        json={"name": "Walk templates"},
    )
    found["message_template_folder_id"] = folder["id"]
    found["message_template_id"] = api.ok(
        "POST",
        f"/message_template_folders/{folder['id']}/message_templates",
        201,
        json={"name": "Walk", "body": "<p>walk</p>"},
    )["id"]


def add_message(company: Company, found: dict[str, str]) -> None:
    """An imported message in the walk's inbox, as ``message_id``."""
    api = company.api
    imported = api.ok(
        "POST",
        f"/inboxes/{found['inbox_id']}/imported_messages",
        202,
        json={
            "sender": {"handle": "walker@example.com"},
            "to": ["walk@example.com"],
            "body": "walk",
            "external_id": f"walk-{company.key}",
            "created_at": 1_700_000_000,
            "metadata": {"is_inbound": True},
        },
    )
    message = api.message(imported["message_uid"])
    found["message_id"] = message["id"]
    # The sender, resolved to a contact by its handle.
    sender = next(r for r in message["recipients"] if r["role"] == "from")
    found["contact_id"] = sender["_links"]["related"]["contact"].rsplit("/", 1)[-1]


def add_draft(company: Company, found: dict[str, str]) -> None:
    """A shared draft on the walk's channel, as ``draft_id``."""
    draft = company.api.ok(
        "POST",
        f"/channels/{found['channel_id']}/drafts",
        json={"body": "walk draft", "mode": "shared"},
    )
    found["draft_id"] = draft["id"]


def add_contact_list_and_account(company: Company, found: dict[str, str]) -> None:
    """A team contact list (also ``contact_group_id``) holding the walk's contact, and an
    account with that contact, as ``account_id``."""
    api = company.api
    api.ok("POST", f"/teams/{company.team_id}/contact_lists", 204, json={"name": "Walk list"})
    lists = api.ok("GET", f"/teams/{company.team_id}/contact_lists")["_results"]
    found["contact_list_id"] = found["contact_group_id"] = lists[0]["id"]
    api.ok(
        "POST",
        f"/contact_lists/{lists[0]['id']}/contacts",
        204,
        json={"contact_ids": [found["contact_id"]]},
    )
    account = api.ok(
        "POST", "/accounts", 201, json={"name": "Walk account", "domains": ["walk.example"]}
    )
    found["account_id"] = account["id"]
    api.ok(
        "POST",
        f"/accounts/{account['id']}/contacts",
        204,
        json={"contact_ids": [found["contact_id"]]},
    )


def add_webhook_objects(company: Company, found: dict[str, str]) -> None:
    """An application (no webhook URL, so no sync challenge) and a rule webhook's delivery of
    the walk's event to a documentation address (refused as reserved, so never sent), as
    ``application_uid``, ``subscription_id`` and ``delivery_id``."""
    from porch import ids
    from porch.events.webhooks import enqueue_rule_webhook

    api = company.api
    found["application_uid"] = api.ok("POST", "/porch/applications", 201, json={"name": "Walk"})[
        "uid"
    ]

    async def queue(db: Any) -> None:
        async with db.transaction() as tx:
            await enqueue_rule_webhook(
                tx,
                company_id=company.key,
                rule_id=1,
                url="http://192.0.2.1/walk",
                event_id=ids.decode(ids.EVENT, found["event_id"]) or 0,
                preview=True,
            )

    company.server.run(queue)
    found["subscription_id"] = next(
        s["id"]
        for s in api.ok("GET", "/porch/webhooks/subscriptions")["_results"]
        if s["kind"] == "rule"
    )
    found["delivery_id"] = api.ok("GET", "/porch/webhooks/deliveries")["_results"][0]["id"]
