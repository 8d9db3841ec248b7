"""Conversation search (GET /conversations/search/{query}): words, phrases, every filter,
paging and _total, visibility, and the bad queries that are 400s."""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import quote

from tests.conftest import Api, Company

WAIT_SECONDS = 15.0


def _custom_channel(company: Company, name: str = "Support") -> tuple[str, str]:
    """A custom channel in a new inbox: (channel id, inbox id)."""
    api = company.api
    inbox = api.ok("POST", f"/teams/{company.team_id}/inboxes", 201, json={"name": name})
    api.ok("POST", f"/inboxes/{inbox['id']}/channels", 204, json={"type": "custom"})
    channel = api.ok("GET", f"/inboxes/{inbox['id']}/channels")["_results"][0]["id"]
    return channel, inbox["id"]


def _receive(api: Api, channel: str, handle: str, body: str, **extra: Any) -> str:
    """Receive a message on a custom channel; the id of its conversation."""
    payload: dict[str, Any] = {"sender": {"handle": handle}, "body": body, **extra}
    answer = api.ok("POST", f"/channels/{channel}/incoming_messages", 202, json=payload)
    msg = api.message(answer["message_uid"])
    return str(msg["_links"]["related"]["conversation"].rsplit("/", 1)[1])


def _search(api: Api, query: str, **params: Any) -> dict[str, Any]:
    body: dict[str, Any] = api.ok(
        "GET", "/conversations/search/" + quote(query, safe=""), params=params
    )
    return body


def _ids(api: Api, query: str) -> set[str]:
    return {c["id"] for c in _search(api, query)["_results"]}


def _eventually(api: Api, query: str, expected: set[str]) -> set[str]:
    """The ids the query finds once the index caught up with ``expected`` (bounded wait)."""
    deadline = time.monotonic() + WAIT_SECONDS
    found = _ids(api, query)
    while found != expected and time.monotonic() < deadline:
        time.sleep(0.05)
        found = _ids(api, query)
    return found


def test_words_are_anded_and_case_insensitive(dunder_mifflin: Company) -> None:
    api = dunder_mifflin.api
    channel, _ = _custom_channel(dunder_mifflin)
    paper = _receive(api, channel, "jan", "We need Paper for the Scranton branch", subject="Order")
    both = _receive(api, channel, "karen", "paper and toner please", subject="Stamford")
    assert _eventually(api, "PAPER", {paper, both}) == {paper, both}
    assert _ids(api, "paper toner") == {both}
    assert _ids(api, "scranton order") == {paper}
    assert _ids(api, "paper nowhere") == set()


def _import(api: Api, inbox: str, external_id: str, **fields: Any) -> str:
    """Import a message into an inbox; the id of its conversation."""
    payload: dict[str, Any] = {
        "sender": {"handle": "jan@example.com"},
        "to": ["sales@dundermifflin.com"],
        "body": "imported",
        "external_id": external_id,
        "created_at": 1_700_000_000,
        "metadata": {"is_inbound": True},
        **fields,
    }
    answer = api.ok("POST", f"/inboxes/{inbox}/imported_messages", 202, json=payload)
    msg = api.message(answer["message_uid"])
    return str(msg["_links"]["related"]["conversation"].rsplit("/", 1)[1])


def _task(api: Api, inbox: str, subject: str) -> str:
    body = {"type": "task", "subject": subject, "inbox_id": inbox}
    return str(api.ok("POST", "/conversations", 201, json=body)["id"])


def _inbox(company: Company, name: str = "Sales") -> str:
    body = {"name": name}
    return str(company.api.ok("POST", f"/teams/{company.team_id}/inboxes", 201, json=body)["id"])


def _teammate(api: Api, username: str) -> str:
    body = {"email": f"{username}@dundermifflin.com", "username": username}
    return str(api.ok("POST", "/porch/teammates", 201, json=body)["id"])


def test_phrases_match_exactly_and_text_covers_subject_messages_and_comments(
    dunder_mifflin: Company,
) -> None:
    api = dunder_mifflin.api
    channel, inbox = _custom_channel(dunder_mifflin)
    ordered = _receive(api, channel, "jan", "Bring the paper shredder tomorrow", subject="Kit")
    reversed_ = _receive(api, channel, "karen", "The shredder paper is gone", subject="Other")
    task = _task(api, inbox, "Quarterly beet harvest")
    api.ok("POST", f"/conversations/{task}/comments", 201, json={"body": "Bears eat mangoes"})
    # The comment is the last write: once it is found, the index holds everything before it.
    assert _eventually(api, "mangoes", {task}) == {task}
    assert _ids(api, '"paper shredder"') == {ordered}
    assert _ids(api, "paper shredder") == {ordered, reversed_}
    assert _ids(api, "harvest") == {task}
    assert _ids(api, "kit bring") == {ordered}
    # Phrases and words together are ANDed too.
    assert _ids(api, '"shredder paper" gone') == {reversed_}


def test_results_page_by_latest_activity_with_a_total(dunder_mifflin: Company) -> None:
    api = dunder_mifflin.api
    channel, _ = _custom_channel(dunder_mifflin)
    made = [_receive(api, channel, f"client{i}", f"invoice number {i}") for i in range(5)]
    _receive(api, channel, "other", "unrelated memo")
    assert _eventually(api, "invoice", set(made)) == set(made)
    first = _search(api, "invoice", limit=2)
    assert first["_total"] == 5 and len(first["_results"]) == 2
    assert first["_links"]["self"].endswith("/conversations/search/invoice")
    shown = api.all_pages("/conversations/search/invoice", limit=2)
    # Newest activity first: the last message received comes first.
    assert [c["id"] for c in shown] == list(reversed(made))
    assert shown[0]["subject"] == "" and shown[0]["status"] == "unassigned"
    last = _search(api, "invoice", limit=5)
    assert last["_pagination"]["next"] is None and last["_total"] == 5


def test_is_filters(dunder_mifflin: Company) -> None:
    api = dunder_mifflin.api
    inbox = _inbox(dunder_mifflin)
    statuses = {s["category"]: s["id"] for s in api.ok("GET", "/company/statuses")["_results"]}
    opened = _task(api, inbox, "Open one")
    assigned = _task(api, inbox, "Assigned one")
    api.ok(
        "PUT",
        f"/conversations/{assigned}/assignee",
        204,
        json={"assignee_id": dunder_mifflin.admin_id},
    )
    archived = _task(api, inbox, "Archived one")
    api.ok("PATCH", f"/conversations/{archived}", 204, json={"status": "archived"})
    trashed = _task(api, inbox, "Trashed one")
    api.ok("PATCH", f"/conversations/{trashed}", 204, json={"status": "deleted"})
    snoozed = _task(api, inbox, "Snoozed one")
    later = int(time.time()) + 3600
    api.ok(
        "PATCH",
        f"/conversations/{snoozed}/reminders",
        204,
        json={"teammate_id": dunder_mifflin.admin_id, "scheduled_at": later},
    )
    waiting = _task(api, inbox, "Waiting one")
    api.ok("PATCH", f"/conversations/{waiting}", 204, json={"status_id": statuses["waiting"]})
    resolved = _task(api, inbox, "Resolved one")
    api.ok("PATCH", f"/conversations/{resolved}", 204, json={"status_id": statuses["resolved"]})
    live = {opened, assigned, waiting}
    assert _ids(api, f"inbox:{inbox} is:open") == live
    assert _ids(api, f"inbox:{inbox} is:archived") == {archived, resolved}
    assert _ids(api, f"inbox:{inbox} is:snoozed") == {snoozed}
    assert _ids(api, f"inbox:{inbox} is:trashed") == {trashed}
    assert _ids(api, f"inbox:{inbox} is:assigned") == {assigned}
    assert _ids(api, f"inbox:{inbox} is:open is:unassigned") == {opened, waiting}
    # A snoozed conversation waits (a reminder moves it to the default waiting status).
    assert _ids(api, f"inbox:{inbox} is:waiting") == {waiting, snoozed}
    assert _ids(api, f"inbox:{inbox} is:resolved") == {resolved}
    # One family's values are alternatives; families all apply.
    assert _ids(api, f"inbox:{inbox} is:trashed is:snoozed") == {trashed, snoozed}
    assert _ids(api, f"inbox:{inbox} is:waiting is:resolved is:unassigned") == {
        waiting,
        resolved,
        snoozed,
    }
    # Without is:trashed the trash is not searched.
    assert trashed not in _ids(api, f"inbox:{inbox}")


def test_unreplied_means_the_last_message_came_in(dunder_mifflin: Company) -> None:
    api = dunder_mifflin.api
    _, inbox = _custom_channel(dunder_mifflin)
    waiting = _import(api, inbox, "u-1", metadata={"is_inbound": True, "thread_ref": "u1"})
    answered = _import(api, inbox, "u-2", metadata={"is_inbound": True, "thread_ref": "u2"})
    _import(
        api,
        inbox,
        "u-3",
        sender={"handle": "michael@dundermifflin.com"},
        to=["jan@example.com"],
        created_at=1_700_000_100,
        conversation_id=answered,
        metadata={"is_inbound": False},
    )
    assert _ids(api, f"inbox:{inbox} is:unreplied") == {waiting}


def test_id_filters_or_within_and_across(dunder_mifflin: Company) -> None:
    api = dunder_mifflin.api
    sales, annex = _inbox(dunder_mifflin, "Sales"), _inbox(dunder_mifflin, "Annex")
    a, b, c = _task(api, sales, "A"), _task(api, sales, "B"), _task(api, annex, "C")
    urgent = api.ok("POST", "/company/tags", 201, json={"name": "Urgent"})["id"]
    vip = api.ok("POST", "/company/tags", 201, json={"name": "VIP"})["id"]
    api.ok("POST", f"/conversations/{a}/tags", 204, json={"tag_ids": [urgent]})
    api.ok("POST", f"/conversations/{c}/tags", 204, json={"tag_ids": [vip]})
    assert _ids(api, f"inbox:{sales}") == {a, b}
    assert _ids(api, f"inbox:{sales} inbox:{annex}") == {a, b, c}
    assert _ids(api, f"tag:{urgent}") == {a}
    assert _ids(api, f"tag:{urgent} tag:{vip}") == {a, c}
    assert _ids(api, f"inbox:{sales} tag:{vip}") == set()
    assert _ids(api, f"inbox:{annex} tag:{vip}") == {c}
    link = api.ok("POST", "/links", 201, json={"external_url": "https://dm.test/beets"})["id"]
    api.ok("POST", f"/conversations/{b}/links", 204, json={"link_ids": [link]})
    assert _ids(api, f"link:{link}") == {b}


def test_teammate_filters(dunder_mifflin: Company) -> None:
    api = dunder_mifflin.api
    dwight, jim, pam = _teammate(api, "dwight"), _teammate(api, "jim"), _teammate(api, "pam")
    _, inbox = _custom_channel(dunder_mifflin)
    assigned = _task(api, inbox, "Assigned")
    api.ok("PUT", f"/conversations/{assigned}/assignee", 204, json={"assignee_id": dwight})
    commented = _task(api, inbox, "Commented")
    api.ok(
        "POST",
        f"/conversations/{commented}/comments",
        201,
        json={"body": "Ask @pam", "author_id": jim},
    )
    authored = _import(api, inbox, "t-1", metadata={"is_inbound": True, "thread_ref": "t1"})
    _import(
        api,
        inbox,
        "t-2",
        sender={"handle": "pam@dundermifflin.com", "author_id": pam},
        to=["jan@example.com"],
        conversation_id=authored,
        metadata={"is_inbound": False},
    )
    assert _ids(api, f"assignee:{dwight}") == {assigned}
    assert _ids(api, "assignee:alt:email:dwight@dundermifflin.com") == {assigned}
    assert _ids(api, f"commenter:{jim}") == {commented}
    assert _ids(api, f"mention:{pam}") == {commented}
    assert _ids(api, f"author:{pam}") == {authored}
    assert _ids(api, f"participant:{pam}") == {commented, authored}
    assert _ids(api, f"participant:{dwight} participant:{jim}") == {assigned, commented}
    assert _ids(api, f"author:{jim}") == set()


def test_contact_and_handle_filters(dunder_mifflin: Company) -> None:
    api = dunder_mifflin.api
    _, inbox = _custom_channel(dunder_mifflin)
    from_jan = _import(api, inbox, "h-1", sender={"handle": "Jan@Example.com"})
    to_many = _import(
        api,
        inbox,
        "h-2",
        sender={"handle": "michael@dundermifflin.com"},
        to=["holly@example.com"],
        cc=["ryan@example.com"],
        bcc=["toby@example.com"],
        metadata={"is_inbound": False},
    )
    assert _ids(api, "from:jan@example.com") == {from_jan}
    assert _ids(api, "from:JAN@example.com") == {from_jan}
    assert _ids(api, "to:holly@example.com") == {to_many}
    assert _ids(api, "to:ryan@example.com") == {to_many}  # to: covers cc and bcc
    assert _ids(api, "cc:ryan@example.com") == {to_many}
    assert _ids(api, "cc:holly@example.com") == set()
    assert _ids(api, "bcc:toby@example.com") == {to_many}
    assert _ids(api, "recipient:michael@dundermifflin.com") == {to_many}
    assert _ids(api, "from:jan@example.com from:michael@dundermifflin.com") == {from_jan, to_many}
    assert _ids(api, "from:jan@example.com to:holly@example.com") == set()
    conv = api.ok("GET", f"/conversations/{from_jan}/messages")["_results"][0]
    contact = conv["recipients"][0]["_links"]["related"]["contact"].rsplit("/", 1)[1]
    assert _ids(api, f"contact:{contact}") == {from_jan}


def test_custom_field_filter(dunder_mifflin: Company) -> None:
    api = dunder_mifflin.api
    api.ok(
        "POST",
        "/porch/custom_fields",
        201,
        json={"object_type": "conversation", "name": "Priority", "type": "string"},
    )
    inbox = _inbox(dunder_mifflin)
    high, low, none = _task(api, inbox, "H"), _task(api, inbox, "L"), _task(api, inbox, "N")
    api.ok("PATCH", f"/conversations/{high}", 204, json={"custom_fields": {"Priority": "high"}})
    api.ok("PATCH", f"/conversations/{low}", 204, json={"custom_fields": {"Priority": "low"}})
    assert _ids(api, 'custom_field:"Priority=high"') == {high}
    assert _ids(api, "custom_field:Priority=low") == {low}
    assert _ids(api, 'custom_field:"Priority=high" custom_field:"Priority=low"') == {high, low}
    assert none not in _ids(api, f"inbox:{inbox} custom_field:Priority=high")
    resp = api.get("/conversations/search/" + quote('custom_field:"Nope=1"', safe=""))
    assert resp.status_code == 400


def test_date_filters_take_unix_seconds(dunder_mifflin: Company) -> None:
    api = dunder_mifflin.api
    _, inbox = _custom_channel(dunder_mifflin)
    day = 1_600_000_000 - 1_600_000_000 % 86_400  # a UTC midnight
    old = _import(
        api, inbox, "d-1", created_at=day + 3600, metadata={"is_inbound": True, "thread_ref": "d1"}
    )
    older = _import(
        api,
        inbox,
        "d-2",
        created_at=day - 86_400,
        metadata={"is_inbound": True, "thread_ref": "d2"},
    )
    assert _ids(api, f"inbox:{inbox} during:{day + 7200}") == {old}
    assert _ids(api, f"inbox:{inbox} before:{day}") == {older}
    assert _ids(api, f"inbox:{inbox} after:{day}") == {old}
    assert _ids(api, f"inbox:{inbox} after:{day} before:{day + 1800}") == set()
    both = f"inbox:{inbox} during:{day} during:{day - 86_400}"
    assert _ids(api, both) == {old, older}


def test_bad_queries_are_400_envelopes(dunder_mifflin: Company) -> None:
    api = dunder_mifflin.api
    bad = [
        "flavor:mint",
        're:"hello',
        '"unbalanced',
        "inbox:nope",
        "tag:inb_123",
        "assignee:dwight",
        "before:2024-01-01",
        "after:yesterday",
        "is:unread",
        "-tag:tag_1",
        "paper\x01",
        "   ",
        "tag:",
        "x" * 1001,
    ]
    for query in bad:
        resp = api.get("/conversations/search/" + quote(query, safe=""))
        assert resp.status_code == 400, (query, resp.status_code, resp.text)
        assert resp.json()["_error"]["status"] == 400
    assert api.get("/conversations/search/paper", params={"page_token": "zz"}).status_code == 400
    # Well-formed ids that name nothing are unknown, as everywhere.
    assert api.get("/conversations/search/inbox:inb_zzzzz").status_code == 404


def test_other_companies_and_private_inboxes_are_never_searched(
    dunder_mifflin: Company, vance_refrigeration: Company
) -> None:
    api = dunder_mifflin.api
    michael = dunder_mifflin.admin_id
    shared = _task(api, _inbox(dunder_mifflin), "Refrigerator contract")
    mine = api.ok("POST", f"/teammates/{michael}/private_inboxes", 201, json={"name": "Mine"})
    private = _task(api, mine["id"], "Refrigerator secret")
    assert _eventually(api, "refrigerator", {shared, private}) == {shared, private}
    shared_only = dunder_mifflin.client(dunder_mifflin.token(namespaces=["shared"]))
    assert _ids(shared_only, "refrigerator") == {shared}
    assert _search(shared_only, "refrigerator")["_total"] == 1
    assert shared_only.get(f"/conversations/search/inbox:{mine['id']}").status_code == 404
    bob = vance_refrigeration.api
    bobs = _task(bob, _inbox(vance_refrigeration), "Refrigerator order")
    assert _eventually(bob, "refrigerator", {bobs}) == {bobs}
    assert bob.get(f"/conversations/search/inbox:{_inbox(dunder_mifflin, 'X')}").status_code == 404


def test_merged_and_deleted_conversations_leave_the_results(dunder_mifflin: Company) -> None:
    api = dunder_mifflin.api
    channel, _ = _custom_channel(dunder_mifflin)
    kept = _receive(api, channel, "jan", "Stapler in jello", metadata={"thread_ref": "m1"})
    gone = _receive(api, channel, "jan", "Jello again", metadata={"thread_ref": "m2"})
    assert _eventually(api, "jello", {kept, gone}) == {kept, gone}
    api.ok("POST", f"/porch/conversations/{kept}/merge", 200, json={"conversation_ids": [gone]})
    assert _eventually(api, "jello again", {kept}) == {kept}
    assert _ids(api, "jello") == {kept}
    api.ok("PATCH", f"/conversations/{kept}", 204, json={"status": "deleted"})
    assert _ids(api, "jello") == set()
    assert _ids(api, "jello is:trashed") == {kept}
    api.ok("DELETE", f"/conversations/{kept}", 204)
    assert _eventually(api, "jello is:trashed", set()) == set()


def test_reindex_rebuilds_a_companys_documents(dunder_mifflin: Company) -> None:
    from porch.events.search_index import rebuild

    api = dunder_mifflin.api
    inbox = _inbox(dunder_mifflin)
    made = {_task(api, inbox, "Dundies award"), _task(api, inbox, "Dundies night")}
    assert _eventually(api, "dundies", made) == made

    async def go(db: Any) -> int:
        return await rebuild(db, company_id=dunder_mifflin.key)

    assert dunder_mifflin.server.run(go) >= 2
    assert _ids(api, "dundies") == made


def test_text_with_key_filters_pages_with_an_exact_total(dunder_mifflin: Company) -> None:
    api = dunder_mifflin.api
    sales, annex = _inbox(dunder_mifflin, "Sales"), _inbox(dunder_mifflin, "Annex")
    urgent = api.ok("POST", "/company/tags", 201, json={"name": "Urgent"})["id"]
    tagged = [_task(api, sales, f"Stapler jammed {i}") for i in range(5)]
    untagged = _task(api, sales, "Stapler jammed again")
    elsewhere = _task(api, annex, "Stapler jammed in the annex")
    for conv in (*tagged, elsewhere):
        api.ok("POST", f"/conversations/{conv}/tags", 204, json={"tag_ids": [urgent]})
    everything = {*tagged, untagged, elsewhere}
    assert _eventually(api, "stapler", everything) == everything
    query = f"stapler tag:{urgent} inbox:{sales}"
    first = _search(api, query, limit=2)
    assert first["_total"] == 5 and len(first["_results"]) == 2
    shown = api.all_pages("/conversations/search/" + quote(query, safe=""), limit=2)
    assert [c["id"] for c in shown] == list(reversed(tagged))
    assert _search(api, f"stapler tag:{urgent}")["_total"] == 6
    assert _search(api, f"jammed inbox:{annex}")["_total"] == 1
    # A state filter applies to the same matches: archiving one leaves four.
    api.ok("PATCH", f"/conversations/{tagged[0]}", 204, json={"status": "archived"})
    assert _search(api, f"{query} is:open")["_total"] == 4
    nothing = _search(api, f"stapler tag:{urgent} inbox:{sales} is:trashed")
    assert nothing["_total"] == 0 and nothing["_results"] == []
