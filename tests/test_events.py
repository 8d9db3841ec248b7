"""The event log: Front's ``/events`` and Porch's whole log ``/porch/events``, filters and paging.

Front's public events happen to conversations, which arrive in a later issue; until then the
filters are exercised on Porch's own kinds through ``/porch/events``, and ``/events`` is fed by
appending public events directly to the log.
"""

from __future__ import annotations

import time
from typing import Any

import pytest

from porch import ids
from porch.events import log
from porch.store.db import Database
from tests.conftest import Api, Company


def porch_log(api: Api, *params: tuple[str, Any]) -> list[dict[str, Any]]:
    return list(api.ok("GET", "/porch/events", params=list(params))["_results"])


def make_tags(api: Api, *names: str) -> list[str]:
    out = []
    for name in names:
        out.append(api.ok("POST", "/company/tags", 201, json={"name": name})["id"])
        # Distinct emission times, so time filters can tell the events apart.
        time.sleep(0.005)
    return out


def append_public(company: Company, type: str, count: int = 1) -> None:
    """Append Front events with no conversation (stand-ins until conversations exist)."""

    async def go(db: Database) -> None:
        async with db.transaction() as tx:
            for _ in range(count):
                await log.append(tx, company_id=company.key, type=type, source=log.SYSTEM)

    company.server.run(go)


def test_porch_log_shows_every_kind_newest_first(api: Api) -> None:
    tag = make_tags(api, "Urgent")[0]
    api.ok("PATCH", f"/tags/{tag}", 204, json={"name": "Very urgent"})
    events = porch_log(api)
    assert [e["type"] for e in events[:2]] == ["tag_updated", "tag_created"]
    assert events[-1]["type"] == "company_created"
    latest = events[0]
    assert latest["id"].startswith("evt_")
    assert latest["source"] == {"_meta": {"type": "api"}, "data": None}
    assert latest["target"] == {"_meta": {"type": "tag"}, "data": {"id": tag}}
    assert latest["conversation"] is None
    assert isinstance(latest["emitted_at"], float)
    assert latest["emitted_at"] >= events[1]["emitted_at"]
    assert api.ok("GET", f"/porch/events/{latest['id']}") == latest
    assert latest["_links"]["self"].endswith(f"/porch/events/{latest['id']}")


def test_filter_by_type_in_both_spellings(api: Api) -> None:
    tag = make_tags(api, "A")[0]
    api.ok("DELETE", f"/tags/{tag}", 204)
    only = porch_log(api, ("q[types]", "tag_deleted"))
    assert [e["type"] for e in only] == ["tag_deleted"]
    both = porch_log(api, ("q[types][]", "tag_created"), ("q[types][]", "tag_deleted"))
    assert [e["type"] for e in both] == ["tag_deleted", "tag_created"]
    mixed = porch_log(api, ("q[types]", "tag_created"), ("q[types][]", "company_created"))
    assert [e["type"] for e in mixed] == ["tag_created", "company_created"]
    assert porch_log(api, ("q[types]", "no_such_kind")) == []


def test_filter_by_time_is_exclusive_on_both_ends(api: Api) -> None:
    make_tags(api, "A", "B", "C")
    created = porch_log(api, ("q[types]", "tag_created"), ("sort_order", "asc"))
    times = [f"{e['emitted_at']:.3f}" for e in created]
    assert len(set(times)) == 3
    ids = [e["id"] for e in created]

    def between(*params: tuple[str, str]) -> list[str]:
        found = porch_log(api, ("q[types]", "tag_created"), ("sort_order", "asc"), *params)
        return [e["id"] for e in found]

    assert between(("q[after]", times[0])) == ids[1:]
    assert between(("q[before]", times[2])) == ids[:2]
    assert between(("q[after]", times[0]), ("q[before]", times[2])) == [ids[1]]
    assert between(("q[before]", times[0])) == []
    # Whole seconds and fewer decimals are timestamps too.
    assert between(("q[after]", str(int(float(times[0])) - 1))) == ids
    assert between(("q[before]", f"{float(times[0]) - 1:.1f}")) == []


@pytest.mark.parametrize("value", ["yesterday", "1.2345", "-5", "1e9", "", " 1", "0x10", "1."])
def test_bad_times_are_refused(api: Api, value: str) -> None:
    for path in ("/porch/events", "/events"):
        for name in ("q[before]", "q[after]"):
            resp = api.get(path, params={name: value})
            assert resp.status_code == 400, (path, name, value)


def test_inbox_filter_checks_its_ids(dunder_mifflin: Company, vance_refrigeration: Company) -> None:
    api = dunder_mifflin.api
    make_tags(api, "A")
    inbox = api.ok("POST", f"/teams/{dunder_mifflin.team_id}/inboxes", 201, json={"name": "Sales"})
    # No conversation, hence no event, is in an inbox yet.
    assert porch_log(api, ("q[inboxes]", inbox["id"])) == []
    assert api.ok("GET", "/events", params={"q[inboxes][]": inbox["id"]})["_results"] == []
    theirs = vance_refrigeration.api.ok(
        "POST", f"/teams/{vance_refrigeration.team_id}/inboxes", 201, json={"name": "Theirs"}
    )
    for ref in (theirs["id"], "inb_zzzzzz", "tag_1", "sales"):
        for path in ("/porch/events", "/events"):
            resp = api.get(path, params=[("q[inboxes]", inbox["id"]), ("q[inboxes]", ref)])
            assert resp.status_code == 400, (path, ref)


def test_keyset_pages_keep_filters_and_order(api: Api) -> None:
    made = make_tags(api, *[f"t{i}" for i in range(5)])
    first = api.ok(
        "GET",
        "/porch/events",
        params={"q[types]": "tag_created", "limit": 2, "sort_by": "created_at"},
    )
    assert [e["target"]["data"]["id"] for e in first["_results"]] == made[::-1][:2]
    nxt = first["_pagination"]["next"]
    assert "q%5Btypes%5D=tag_created" in nxt
    everything = api.all_pages("/porch/events", **{"q[types]": "tag_created", "limit": 2})
    assert [e["target"]["data"]["id"] for e in everything] == made[::-1]
    ascending = api.all_pages(
        "/porch/events", **{"q[types]": "tag_created", "limit": 2, "sort_order": "asc"}
    )
    assert [e["target"]["data"]["id"] for e in ascending] == made
    # A new event does not shift a page already handed out.
    make_tags(api, "late")
    second = api.ok("GET", nxt[len(api.base_url) :])
    assert [e["target"]["data"]["id"] for e in second["_results"]] == made[::-1][2:4]


@pytest.mark.parametrize(
    "params",
    [
        {"sort_by": "emitted_at"},
        {"sort_order": "up"},
        {"limit": "0"},
        {"limit": "101"},
        {"limit": "ten"},
        {"page_token": "not-a-token"},
        {"q[types]": "tag created"},
    ],
)
def test_bad_list_parameters_are_refused(api: Api, params: dict[str, str]) -> None:
    assert api.get("/porch/events", params=params).status_code == 400
    assert api.get("/events", params=params).status_code == 400


def test_front_list_is_public_events_only(dunder_mifflin: Company) -> None:
    api = dunder_mifflin.api
    make_tags(api, "A")
    body = api.ok("GET", "/events")
    assert body["_results"] == [] and body["_pagination"]["next"] is None
    assert body["_links"]["self"].endswith("/events")
    append_public(dunder_mifflin, "tag")
    shown = api.ok("GET", "/events")["_results"]
    assert [e["type"] for e in shown] == ["tag"]
    assert shown[0]["source"] == {"_meta": {"type": "api"}}
    assert api.ok("GET", f"/events/{shown[0]['id']}") == shown[0]
    # Porch's kinds are not Front events: unknown to /events, shown by /porch/events.
    porch_event = porch_log(api, ("q[types]", "tag_created"))[0]
    assert api.get(f"/events/{porch_event['id']}").status_code == 404
    assert api.get("/events", params={"q[types]": "tag_created"}).status_code == 400
    assert api.ok("GET", "/events", params={"q[types]": "untag"})["_results"] == []
    assert [e["type"] for e in porch_log(api, ("q[types]", "tag"))] == ["tag"]


def test_front_pages_hold_at_most_15(dunder_mifflin: Company) -> None:
    api = dunder_mifflin.api
    append_public(dunder_mifflin, "archive", 18)
    default = api.ok("GET", "/events")
    assert len(default["_results"]) == 15
    # Airbyte asks for 50: served 15 at a time, not refused.
    asked = api.ok("GET", "/events", params={"limit": 50})
    assert len(asked["_results"]) == 15
    rest = api.ok("GET", asked["_pagination"]["next"][len(api.base_url) :])
    assert len(rest["_results"]) == 3 and rest["_pagination"]["next"] is None
    assert len(api.all_pages("/events", limit=4)) == 18
    # Porch's own log allows Front's usual 100.
    assert len(porch_log(api, ("limit", "50"))) >= 18


def test_events_are_visible_only_to_company_wide_tokens(dunder_mifflin: Company) -> None:
    api = dunder_mifflin.api
    append_public(dunder_mifflin, "tag")
    event = api.ok("GET", "/events")["_results"][0]
    shared = dunder_mifflin.client(
        dunder_mifflin.token(namespaces=["shared"], permissions=["read"])
    )
    assert [e["id"] for e in shared.ok("GET", "/events")["_results"]] == [event["id"]]
    team = dunder_mifflin.client(
        dunder_mifflin.token(namespaces=[f"team:{dunder_mifflin.team_id}"])
    )
    private = dunder_mifflin.client(dunder_mifflin.token(namespaces=["private"]))
    for client in (team, private):
        assert client.ok("GET", "/events")["_results"] == []
        assert client.get(f"/events/{event['id']}").status_code == 404
    # The whole log is for provisioning tokens only.
    assert shared.get("/porch/events").status_code == 403


def test_events_need_read(dunder_mifflin: Company) -> None:
    writer = dunder_mifflin.client(dunder_mifflin.token(permissions=["write"]))
    assert writer.get("/events").status_code == 403


def test_events_are_per_company(dunder_mifflin: Company, vance_refrigeration: Company) -> None:
    append_public(dunder_mifflin, "tag")
    ours = dunder_mifflin.api.ok("GET", "/events")["_results"][0]
    porch_ours = porch_log(dunder_mifflin.api)[0]
    other = vance_refrigeration.api
    assert other.ok("GET", "/events")["_results"] == []
    assert other.get(f"/events/{ours['id']}").status_code == 404
    assert other.get(f"/porch/events/{porch_ours['id']}").status_code == 404
    theirs = {e["id"] for e in porch_log(other, ("limit", "100"))}
    assert porch_ours["id"] not in theirs
    for ref in ("evt_zzzzzzzz", "tag_1", "evt_"):
        assert dunder_mifflin.api.get(f"/events/{ref}").status_code == 404


def _comment_with_mention(company: Company) -> tuple[dict[str, Any], dict[str, Any], str]:
    api = company.api
    dwight = api.ok(
        "POST",
        "/porch/teammates",
        201,
        json={"email": "dwight@dundermifflin.com", "username": "dwight"},
    )
    inbox = api.ok("POST", f"/teams/{company.team_id}/inboxes", 201, json={"name": "Sales"})
    conv = api.ok(
        "POST",
        "/conversations",
        201,
        json={"type": "task", "subject": "Beets", "inbox_id": inbox["id"]},
    )["id"]
    comment = api.ok(
        "POST", f"/conversations/{conv}/comments", 201, json={"body": "@dwight, the beets."}
    )
    return dwight, comment, conv


def test_comment_and_mention_events_show_conversation_and_target(dunder_mifflin: Company) -> None:
    api = dunder_mifflin.api
    dwight, comment, conv = _comment_with_mention(dunder_mifflin)
    shown = api.ok("GET", "/events", params={"q[types]": ["comment", "mention"]})["_results"]
    assert [e["type"] for e in shown] == ["mention", "comment"]
    mention, commented = shown
    conversation = api.ok("GET", f"/conversations/{conv}")
    for event in shown:
        assert event["conversation"] == conversation
        assert event["source"] == {"_meta": {"type": "api"}}
        assert api.ok("GET", f"/events/{event['id']}") == event
    assert commented["target"] == {"_meta": {"type": "comment"}, "data": comment}
    assert mention["target"] == {"_meta": {"type": "teammate"}, "data": dwight}
    # Porch's log still names them by id.
    logged = porch_log(api, ("q[types]", "mention"))[0]
    assert logged["target"]["data"] == {"id": dwight["id"]}
    assert logged["conversation"] == {"id": conv}


def test_teammate_sources_and_vanished_targets(dunder_mifflin: Company) -> None:
    api = dunder_mifflin.api
    tag = make_tags(api, "Gone")[0]
    tag_key = ids.decode(ids.TAG, tag)
    admin_key = ids.decode(ids.TEAMMATE, dunder_mifflin.admin_id)

    async def go(db: Database) -> None:
        async with db.transaction() as tx:
            for source in (log.Source("teammate", admin_key), log.Source("reminder", None)):
                await log.append(
                    tx,
                    company_id=dunder_mifflin.key,
                    type="tag",
                    source=source,
                    target_type="tag",
                    target_id=tag_key,
                )

    dunder_mifflin.server.run(go)
    by_reminder, by_teammate = api.ok("GET", "/events")["_results"]
    admin = api.ok("GET", f"/teammates/{dunder_mifflin.admin_id}")
    assert by_teammate["source"] == {"_meta": {"type": "teammate"}, "data": admin}
    assert by_reminder["source"] == {"_meta": {"type": "reminder"}}
    assert by_teammate["target"]["data"] == api.ok("GET", f"/tags/{tag}")
    # A deleted tag leaves its events with the kind of target only.
    api.ok("DELETE", f"/tags/{tag}", 204)
    for event in api.ok("GET", "/events")["_results"]:
        assert event["target"] == {"_meta": {"type": "tag"}}


def test_comment_events_follow_conversation_visibility(dunder_mifflin: Company) -> None:
    api = dunder_mifflin.api
    _comment_with_mention(dunder_mifflin)
    other_team = api.ok("POST", "/porch/teams", 201, json={"name": "Warehouse"})["id"]
    outsider = dunder_mifflin.client(dunder_mifflin.token(namespaces=[f"team:{other_team}"]))
    assert outsider.ok("GET", "/events")["_results"] == []
    insider = dunder_mifflin.client(
        dunder_mifflin.token(namespaces=[f"team:{dunder_mifflin.team_id}"])
    )
    assert {e["type"] for e in insider.ok("GET", "/events")["_results"]} == {"comment", "mention"}
