"""A contact's conversations: those with a message the contact sent or received."""

from __future__ import annotations

from typing import Any

from tests.conftest import Api, Company


def _import(api: Api, inbox: str, sender: str, to: str, n: int, **extra: Any) -> dict[str, Any]:
    answer = api.ok(
        "POST",
        f"/inboxes/{inbox}/imported_messages",
        202,
        json={
            "sender": {"handle": sender},
            "to": [to],
            "body": f"Message {n}",
            "subject": f"Paper order {n}",
            "external_id": f"contact-test-{n}",
            "created_at": 1_700_000_000 + n,
            "metadata": {"is_inbound": True, "thread_ref": f"thread-{n}"},
            **extra,
        },
    )
    return dict(api.message(answer["message_uid"]))


def _contact(message: dict[str, Any], role: str) -> str:
    person = next(r for r in message["recipients"] if r["role"] == role)
    return str(person["_links"]["related"]["contact"].rsplit("/", 1)[-1])


def test_a_contacts_conversations_by_id_and_by_email_alias(
    dunder_mifflin: Company, vance_refrigeration: Company
) -> None:
    api = dunder_mifflin.api
    inbox = api.ok("POST", f"/teams/{dunder_mifflin.team_id}/inboxes", 201, json={"name": "Sales"})
    first = _import(api, inbox["id"], "Bob@Vance.example", "sales@dm.example", 1)
    _import(api, inbox["id"], "karen@example.com", "sales@dm.example", 2)
    third = _import(api, inbox["id"], "bob@vance.example", "sales@dm.example", 3)
    bob = _contact(first, "from")
    assert bob.startswith("crd_") and _contact(third, "from") == bob
    convs = api.all_pages(f"/contacts/{bob}/conversations", limit=1)
    assert [c["id"] for c in convs] == [
        third["_links"]["related"]["conversation"].rsplit("/", 1)[-1],
        first["_links"]["related"]["conversation"].rsplit("/", 1)[-1],
    ]
    by_alias = api.all_pages("/contacts/alt:email:BOB@vance.example/conversations")
    assert by_alias == api.all_pages(f"/contacts/{bob}/conversations")
    # The recipient side counts too: every conversation went to the sales address.
    sales = _contact(first, "to")
    assert len(api.all_pages(f"/contacts/{sales}/conversations")) == 3
    # Filters apply as on other lists.
    assert api.all_pages(f"/contacts/{bob}/conversations", **{"q[statuses]": "trashed"}) == []

    for ref in ("crd_zzzzzz", "alt:email:nobody@example.com", "alt:fax:123", "tea_1"):
        resp = api.get(f"/contacts/{ref}/conversations")
        assert resp.status_code == 404, ref
        assert resp.json()["_error"]["status"] == 404
    # Another company knows neither the id nor the address.
    other = vance_refrigeration.api
    assert other.get(f"/contacts/{bob}/conversations").status_code == 404
    assert other.get("/contacts/alt:email:bob@vance.example/conversations").status_code == 404
