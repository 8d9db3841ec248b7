"""Tenancy: a token of one company never sees or touches another company's objects.

Walks every route Porch serves (Front's and its own admin routes) with Vance Refrigeration's
token, naming objects of Dunder Mifflin in the path, and expects 404 every time; then checks
that Dunder Mifflin's objects are unchanged and absent from Vance's lists.
"""

from __future__ import annotations

from porch import config
from porch.app import Porch
from tests.conftest import Company
from tests.objects import one_of_everything

# Routes whose path names no object: checked by listing instead.
_NO_PARAMS = "{"


def _routes() -> list[tuple[str, str]]:
    app = Porch(config.load("/tmp/porch-unused"))
    return [(op.method, op.path) for op in app.router.operations if op.auth]


def test_every_route_answers_404_for_another_companys_objects(
    dunder_mifflin: Company, vance_refrigeration: Company
) -> None:
    theirs = one_of_everything(dunder_mifflin)
    before = dunder_mifflin.api.ok("GET", "/porch/events", params={"limit": 100})["_results"]
    bob = vance_refrigeration.api
    walked = 0
    for method, path in _routes():
        if _NO_PARAMS not in path:
            continue
        concrete = path
        for name, value in theirs.items():
            concrete = concrete.replace("{" + name + "}", value)
        assert "{" not in concrete, f"no object for {path}: add one to tests/objects.py"
        resp = bob.request(method, concrete, json={})
        assert resp.status_code == 404, f"{method} {concrete}: {resp.status_code} {resp.text[:300]}"
        walked += 1
    assert walked >= 50
    after = dunder_mifflin.api.ok("GET", "/porch/events", params={"limit": 100})["_results"]
    assert after == before, "another company's requests changed something"


def test_aliases_of_another_company_are_unknown(
    dunder_mifflin: Company, vance_refrigeration: Company
) -> None:
    theirs = one_of_everything(dunder_mifflin)
    michael = dunder_mifflin.api.ok("GET", f"/teammates/{dunder_mifflin.admin_id}")
    channel = dunder_mifflin.api.ok("GET", f"/channels/{theirs['channel_id']}")
    bob = vance_refrigeration.api
    assert bob.get(f"/teammates/alt:email:{michael['email']}").status_code == 404
    assert bob.get(f"/teammates/{michael['email']}").status_code == 404
    assert bob.get(f"/channels/alt:address:{channel['address']}").status_code == 404
    # Naming their teammate in a body of our own team is just as unknown.
    resp = bob.post(
        f"/teams/{vance_refrigeration.team_id}/teammates",
        json={"teammate_ids": [dunder_mifflin.admin_id]},
    )
    assert resp.status_code == 404


def test_lists_never_show_another_companys_objects(
    dunder_mifflin: Company, vance_refrigeration: Company
) -> None:
    theirs = set(one_of_everything(dunder_mifflin).values())
    bob = vance_refrigeration.api
    for method, path in _routes():
        if method != "GET" or _NO_PARAMS in path or path.startswith("/porch/company"):
            continue
        resp = bob.get(path)
        if resp.status_code != 200:
            continue
        shown = {r.get("id") for r in resp.json().get("_results", [])}
        assert not shown & theirs, f"GET {path} shows {shown & theirs}"
