"""Teams through the API: listing, fetching with inboxes and members, membership changes."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa

from porch import ids
from porch.api import all_routes
from porch.store.db import Database, Query
from porch.store.tables import events
from tests.conftest import Api, Company

_EVENTS = Query(
    sa.select(events.c.type)
    .where(
        events.c.company_id == sa.bindparam("c"),
        events.c.target_type == sa.bindparam("t"),
        events.c.target_id == sa.bindparam("k"),
    )
    .order_by(events.c.id)
)


def event_types(company: Company, target_type: str, public_id: str) -> list[str]:
    """The kinds of the events recorded on one object, oldest first (what consumers of the
    event log, such as search and warehouse sync, will see)."""
    key = ids.decode(public_id.split("_", 1)[0], public_id)

    async def read(db: Database) -> list[str]:
        rows = await db.fetch_all(_EVENTS, c=company.key, t=target_type, k=key)
        return [r["type"] for r in rows]

    result: list[str] = company.server.run(read)
    return result


def serves(operation_id: str) -> bool:
    return any(op.operation_id == operation_id for op in all_routes())


def person(api: Api, email: str, **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = api.ok("POST", "/porch/teammates", 201, json={"email": email, **extra})
    return body


def new_team(api: Api, name: str) -> str:
    return str(api.ok("POST", "/porch/teams", 201, json={"name": name})["id"])


def members(api: Api, team: str) -> list[str]:
    return [m["id"] for m in api.ok("GET", f"/teams/{team}")["members"]]


def test_list_and_get_teams(dunder_mifflin: Company) -> None:
    api = dunder_mifflin.api
    scranton = dunder_mifflin.team_id
    stamford = new_team(api, "Stamford")
    listed = api.ok("GET", "/teams")["_results"]
    assert [t["id"] for t in listed] == [scranton, stamford]
    assert listed[1]["name"] == "Stamford"
    assert listed[1]["_links"]["self"].endswith(f"/teams/{stamford}")
    team = api.ok("GET", f"/teams/{scranton}")
    assert team["id"] == scranton and team["name"] == dunder_mifflin.name
    assert [m["id"] for m in team["members"]] == [dunder_mifflin.admin_id]
    assert team["members"][0]["email"] == "michael@dundermifflin.com"
    assert api.ok("GET", f"/teams/{stamford}")["members"] == []


def test_teams_of_another_company_are_invisible(
    dunder_mifflin: Company, vance_refrigeration: Company
) -> None:
    bob = vance_refrigeration.api
    assert bob.get(f"/teams/{dunder_mifflin.team_id}").status_code == 404
    assert [t["id"] for t in bob.ok("GET", "/teams")["_results"]] == [vance_refrigeration.team_id]
    resp = bob.post(
        f"/teams/{dunder_mifflin.team_id}/teammates",
        json={"teammate_ids": [vance_refrigeration.admin_id]},
    )
    assert resp.status_code == 404
    # Nor can a teammate of another company be added to one's own team.
    resp = bob.post(
        f"/teams/{vance_refrigeration.team_id}/teammates",
        json={"teammate_ids": [dunder_mifflin.admin_id]},
    )
    assert resp.status_code == 404
    assert members(dunder_mifflin.api, dunder_mifflin.team_id) == [dunder_mifflin.admin_id]


def test_add_and_remove_teammates_by_id_alias_or_email(dunder_mifflin: Company) -> None:
    api = dunder_mifflin.api
    team = new_team(api, "Sales")
    dwight = person(api, "dwight@dundermifflin.com")
    jim = person(api, "jim@dundermifflin.com")
    pam = person(api, "pam@dundermifflin.com")
    api.ok(
        "POST",
        f"/teams/{team}/teammates",
        204,
        json={
            "teammate_ids": [
                dwight["id"],
                "alt:email:jim@dundermifflin.com",
                "PAM@dundermifflin.com",
            ]
        },
    )
    assert members(api, team) == [dwight["id"], jim["id"], pam["id"]]
    # Adding a member again changes nothing.
    api.ok("POST", f"/teams/{team}/teammates", 204, json={"teammate_ids": [dwight["id"]]})
    assert members(api, team) == [dwight["id"], jim["id"], pam["id"]]
    api.ok(
        "DELETE",
        f"/teams/{team}/teammates",
        204,
        json={"teammate_ids": ["alt:email:dwight@dundermifflin.com", pam["id"]]},
    )
    assert members(api, team) == [jim["id"]]
    assert event_types(dunder_mifflin, "team", team) == [
        "team_created",
        "team_members_added",
        "team_members_added",
        "team_members_removed",
    ]


def test_unknown_teammate_is_404_and_changes_nothing(dunder_mifflin: Company) -> None:
    api = dunder_mifflin.api
    team = new_team(api, "Accounting")
    angela = person(api, "angela@dundermifflin.com")
    for ref in ("tea_zzzzzz", "alt:email:toby@dundermifflin.com", "nobody@example.com", "tim_1"):
        resp = api.post(f"/teams/{team}/teammates", json={"teammate_ids": [angela["id"], ref]})
        assert resp.status_code == 404, ref
        assert ref in resp.json()["_error"]["message"]
    assert members(api, team) == []
    assert (
        api.post("/teams/tim_zzzzzz/teammates", json={"teammate_ids": [angela["id"]]}).status_code
        == 404
    )


def test_bad_membership_bodies_are_400(dunder_mifflin: Company) -> None:
    api = dunder_mifflin.api
    team = dunder_mifflin.team_id
    for body in (
        {},
        {"teammate_ids": "tea_1"},
        {"teammate_ids": [12]},
        {"teammate_ids": []},
        {"teammate_ids": ["tea_1\x00"]},
    ):
        assert api.post(f"/teams/{team}/teammates", json=body).status_code == 400, body
        assert api.delete(f"/teams/{team}/teammates", json=body).status_code == 400, body
    assert members(api, team) == [dunder_mifflin.admin_id]


def test_team_token_sees_only_its_team(dunder_mifflin: Company) -> None:
    api = dunder_mifflin.api
    scranton = dunder_mifflin.team_id
    stamford = new_team(api, "Stamford branch")
    karen = person(api, "karen@dundermifflin.com")
    token = dunder_mifflin.token(namespaces=[f"team:{stamford}"])
    stamford_api = dunder_mifflin.client(token)
    assert [t["id"] for t in stamford_api.ok("GET", "/teams")["_results"]] == [stamford]
    assert stamford_api.get(f"/teams/{scranton}").status_code == 404
    refused = stamford_api.post(
        f"/teams/{scranton}/teammates", json={"teammate_ids": [karen["id"]]}
    )
    assert refused.status_code == 404
    stamford_api.ok(
        "POST", f"/teams/{stamford}/teammates", 204, json={"teammate_ids": [karen["id"]]}
    )
    assert members(stamford_api, stamford) == [karen["id"]]
    assert members(api, scranton) == [dunder_mifflin.admin_id]


def test_read_only_token_cannot_change_membership(dunder_mifflin: Company) -> None:
    api = dunder_mifflin.api
    kevin = person(api, "kevin@dundermifflin.com")
    reader = dunder_mifflin.client(dunder_mifflin.token(permissions=["read"]))
    assert reader.ok("GET", f"/teams/{dunder_mifflin.team_id}")["id"] == dunder_mifflin.team_id
    resp = reader.post(
        f"/teams/{dunder_mifflin.team_id}/teammates", json={"teammate_ids": [kevin["id"]]}
    )
    assert resp.status_code == 403
    assert members(api, dunder_mifflin.team_id) == [dunder_mifflin.admin_id]


def test_team_shows_its_inboxes(dunder_mifflin: Company) -> None:
    if not serves("create-team-inbox"):
        pytest.skip("inboxes are not served yet (create-team-inbox)")
    api = dunder_mifflin.api
    team = dunder_mifflin.team_id
    other = new_team(api, "Nashua")
    sales = api.ok("POST", f"/teams/{team}/inboxes", 201, json={"name": "Sales"})
    api.ok("POST", f"/teams/{other}/inboxes", 201, json={"name": "Nashua sales"})
    shown = api.ok("GET", f"/teams/{team}")["inboxes"]
    assert [i["id"] for i in shown] == [sales["id"]]
    assert shown[0]["name"] == "Sales" and ids.decode(ids.INBOX, shown[0]["id"]) is not None
