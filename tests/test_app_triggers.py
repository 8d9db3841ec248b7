"""Application triggers: ``POST /applications/{uid}/events`` records an event for rules."""

from __future__ import annotations

from typing import Any

from tests.conftest import Company
from tests.test_oauth import approve, as_app, exchange, make_app, set_password


def _triggers(company: Company) -> list[dict[str, Any]]:
    events = company.api.ok("GET", "/porch/events", params={"limit": 50})["_results"]
    return [e for e in events if e["type"] == "application_trigger"]


def test_trigger_records_an_event_with_the_id_winning(dunder_mifflin: Company) -> None:
    app = make_app(dunder_mifflin)
    dunder_mifflin.api.ok(
        "POST",
        f"/applications/{app.uid}/events",
        204,
        json={
            "event_type": "order_shipped",
            "app_object": {"id": "ord_42", "ext_link": "https://crm.test/orders/42"},
        },
    )
    dunder_mifflin.api.ok(
        "POST",
        f"/applications/{app.uid}/events",
        204,
        json={"event_type": "order_lost", "app_object": {"ext_link": "https://crm.test/o/7"}},
    )
    lost, shipped = _triggers(dunder_mifflin)
    assert shipped["data"] == {
        "application_uid": app.uid,
        "event_type": "order_shipped",
        "app_object": {"id": "ord_42"},
    }
    assert shipped["source"]["_meta"]["type"] == "api"
    assert lost["data"]["app_object"] == {"ext_link": "https://crm.test/o/7"}


def test_bad_triggers_are_refused_and_record_nothing(
    dunder_mifflin: Company, vance_refrigeration: Company
) -> None:
    api = dunder_mifflin.api
    app = make_app(dunder_mifflin)
    path = f"/applications/{app.uid}/events"
    for body in (
        {"event_type": "x", "app_object": {}},
        {"event_type": "x", "app_object": {"id": ""}},
        {"app_object": {"id": "ord_1"}},
        {"event_type": "x"},
        {"event_type": 5, "app_object": {"id": "ord_1"}},
    ):
        resp = api.post(path, json=body)
        assert resp.status_code == 400, body
        assert resp.json()["_error"]["status"] == 400
    unknown = api.post(
        "/applications/app_nope/events", json={"event_type": "x", "app_object": {"id": "1"}}
    )
    assert unknown.status_code == 404
    theirs = make_app(vance_refrigeration)
    foreign = api.post(
        f"/applications/{theirs.uid}/events", json={"event_type": "x", "app_object": {"id": "1"}}
    )
    assert foreign.status_code == 404
    reader = dunder_mifflin.client(dunder_mifflin.token(permissions=["read"]))
    read_only = reader.post(path, json={"event_type": "x", "app_object": {"id": "1"}})
    assert read_only.status_code == 403
    assert _triggers(dunder_mifflin) == []


def test_oauth_tokens_may_not_trigger(dunder_mifflin: Company) -> None:
    set_password(dunder_mifflin, dunder_mifflin.admin_id)
    app = make_app(dunder_mifflin)
    crm = as_app(
        dunder_mifflin, exchange(dunder_mifflin, app, approve(dunder_mifflin, app))["access_token"]
    )
    resp = crm.post(
        f"/applications/{app.uid}/events", json={"event_type": "x", "app_object": {"id": "1"}}
    )
    assert resp.status_code == 403 and resp.json()["_error"]["status"] == 403
    assert _triggers(dunder_mifflin) == []
