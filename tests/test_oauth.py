"""OAuth for applications, through a browser-like client and the app's own HTTP calls.

An admin opens the authorization link, signs in, approves; the app exchanges the code (HTTP
Basic), calls the API with the access token, rotates its refresh token and revokes. Errors are
OAuth's own (RFC 6749 §5.2), not Front's envelope. The redirect URI is never contacted: the
test reads the ``Location`` the app would be sent to.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from tests.conftest import Company

REDIRECT = "https://crm.dundermifflin.test/oauth/callback"
PASSWORD = "World's best boss 2024"


@dataclass
class App:
    uid: str
    secret: str


def make_app(company: Company, name: str = "Sabre CRM") -> App:
    body = company.api.ok(
        "POST", "/porch/applications", 201, json={"name": name, "redirect_uris": [REDIRECT]}
    )
    return App(body["uid"], body["secret"])


def set_password(company: Company, teammate_id: str, password: str = PASSWORD) -> None:
    company.api.ok(
        "PUT", f"/porch/teammates/{teammate_id}/password", 204, json={"password": password}
    )


def michael_email(company: Company) -> str:
    return str(company.api.ok("GET", f"/teammates/{company.admin_id}")["email"])


class Browser:
    """A user agent: keeps the session cookie, never follows redirects."""

    def __init__(self, company: Company) -> None:
        self.http = httpx.Client(base_url=company.server.url, timeout=30)
        company.clients.append(self)  # type: ignore[arg-type]  # closed with the company

    def close(self) -> None:
        self.http.close()

    def authorize(
        self, app: App, *, redirect_uri: str = REDIRECT, state: str = "xyz"
    ) -> httpx.Response:
        params = {
            "response_type": "code",
            "client_id": app.uid,
            "redirect_uri": redirect_uri,
            "state": state,
        }
        return self.http.get("/oauth/authorize", params=params)

    def sign_in(self, app: App, email: str, password: str = PASSWORD) -> httpx.Response:
        form = {
            "response_type": "code",
            "client_id": app.uid,
            "redirect_uri": REDIRECT,
            "state": "xyz",
            "email": email,
            "password": password,
        }
        return self.http.post("/oauth/sign-in", data=form)

    def consent(self, app: App, csrf: str | None, decision: str = "approve") -> httpx.Response:
        form = {
            "response_type": "code",
            "client_id": app.uid,
            "redirect_uri": REDIRECT,
            "state": "xyz",
            "decision": decision,
        }
        if csrf is not None:
            form["csrf_token"] = csrf
        return self.http.post("/oauth/authorize", data=form)


def csrf_of(page: httpx.Response) -> str:
    found = re.search(r'name="?csrf_token"? value="([^"]+)"', page.text)
    assert found, page.text[:500]
    return found.group(1)


def callback(resp: httpx.Response) -> dict[str, str]:
    """The query the app's redirect URI receives."""
    assert resp.status_code in (302, 303), f"{resp.status_code} {resp.text[:300]}"
    location = resp.headers["location"]
    assert location.startswith(REDIRECT + "?"), location
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


def approve(company: Company, app: App, email: str | None = None) -> str:
    """Authorize → sign in → consent as Michael; returns the code."""
    browser = Browser(company)
    assert browser.authorize(app).status_code == 200
    signed = browser.sign_in(app, email or michael_email(company))
    assert signed.status_code == 303, signed.text[:300]
    page = browser.http.get(signed.headers["location"])
    assert page.status_code == 200 and "Allow" in page.text
    got = callback(browser.consent(app, csrf_of(page)))
    assert got["state"] == "xyz"
    return got["code"]


def token(company: Company, app: App, secret: str | None = None, **form: str) -> httpx.Response:
    return httpx.post(
        company.server.url + "/oauth/token",
        data=form,
        auth=(app.uid, secret if secret is not None else app.secret),
        timeout=30,
    )


def exchange(company: Company, app: App, code: str) -> dict[str, object]:
    resp = token(company, app, grant_type="authorization_code", code=code, redirect_uri=REDIRECT)
    assert resp.status_code == 200, resp.text
    return dict(resp.json())


def as_app(company: Company, access_token: object) -> httpx.Client:
    client = httpx.Client(
        base_url=company.server.url,
        headers={"Authorization": f"Bearer {access_token}"},
        timeout=30,
    )
    company.clients.append(client)  # type: ignore[arg-type]
    return client


@pytest.fixture
def michael(dunder_mifflin: Company) -> Company:
    """Dunder Mifflin with Michael (its admin) able to sign in."""
    set_password(dunder_mifflin, dunder_mifflin.admin_id)
    return dunder_mifflin


def test_full_flow_code_token_api_refresh_revoke(michael: Company) -> None:
    app = make_app(michael)
    code = approve(michael, app)
    tokens = exchange(michael, app, code)
    assert tokens["token_type"] == "Bearer"
    assert abs(int(tokens["expires_at"]) - (time.time() + 3600)) < 60  # type: ignore[call-overload]
    assert str(tokens["access_token"]) != str(tokens["refresh_token"])

    crm = as_app(michael, tokens["access_token"])
    me = crm.get("/me")
    assert me.status_code == 200 and me.json()["id"] == michael.id
    tag = crm.post("/company/tags", json={"name": "From the CRM"})
    assert tag.status_code == 201
    events = michael.api.ok("GET", "/porch/events", params={"limit": 20})["_results"]
    made = next(e for e in events if e["type"] == "tag_created")
    assert made["source"]["_meta"]["type"] == "oauth_client"

    refreshed = token(
        michael, app, grant_type="refresh_token", refresh_token=str(tokens["refresh_token"])
    )
    assert refreshed.status_code == 200, refreshed.text
    fresh = refreshed.json()
    assert fresh["refresh_token"] != tokens["refresh_token"]
    assert as_app(michael, fresh["access_token"]).get("/me").status_code == 200

    revoked = httpx.post(
        michael.server.url + "/oauth/revoke",
        data={"token": fresh["access_token"]},
        auth=(app.uid, app.secret),
    )
    assert revoked.status_code == 200
    gone = as_app(michael, fresh["access_token"]).get("/me")
    assert gone.status_code == 401 and gone.json()["_error"]["status"] == 401


def test_a_rotated_refresh_token_fails_and_its_reuse_revokes_the_grant(michael: Company) -> None:
    app = make_app(michael)
    first = exchange(michael, app, approve(michael, app))
    second = token(
        michael, app, grant_type="refresh_token", refresh_token=str(first["refresh_token"])
    )
    assert second.status_code == 200
    again = token(
        michael, app, grant_type="refresh_token", refresh_token=str(first["refresh_token"])
    )
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"
    # Someone replayed a spent refresh token: every token of the grant is dead.
    assert as_app(michael, second.json()["access_token"]).get("/me").status_code == 401
    latest = token(
        michael, app, grant_type="refresh_token", refresh_token=second.json()["refresh_token"]
    )
    assert latest.status_code == 400 and latest.json()["error"] == "invalid_grant"


def test_codes_are_single_use_and_bound_to_client_and_redirect_uri(
    michael: Company,
) -> None:
    app = make_app(michael)
    other = make_app(michael, "Other app")
    code = approve(michael, app)
    wrong_uri = token(
        michael, app, grant_type="authorization_code", code=code, redirect_uri=REDIRECT + "/x"
    )
    assert wrong_uri.status_code == 400 and wrong_uri.json()["error"] == "invalid_grant"
    stolen = token(
        michael, other, grant_type="authorization_code", code=code, redirect_uri=REDIRECT
    )
    assert stolen.status_code == 400 and stolen.json()["error"] == "invalid_grant"
    bad_secret = token(
        michael,
        app,
        "not the secret",
        grant_type="authorization_code",
        code=code,
        redirect_uri=REDIRECT,
    )
    assert bad_secret.status_code == 401 and bad_secret.json()["error"] == "invalid_client"

    tokens = exchange(michael, app, code)
    replay = token(michael, app, grant_type="authorization_code", code=code, redirect_uri=REDIRECT)
    assert replay.status_code == 400 and replay.json()["error"] == "invalid_grant"
    # RFC 6749 §4.1.2: tokens issued from a replayed code are revoked.
    assert as_app(michael, tokens["access_token"]).get("/me").status_code == 401

    unsupported = token(michael, app, grant_type="password", username="m", password="p")
    assert unsupported.json()["error"] == "unsupported_grant_type"
    not_a_form = httpx.post(
        michael.server.url + "/oauth/token",
        json={"grant_type": "refresh_token"},
        auth=(app.uid, app.secret),
    )
    assert not_a_form.status_code == 400 and not_a_form.json()["error"] == "invalid_request"


def test_authorize_refuses_unknown_clients_and_redirect_uris_without_redirecting(
    michael: Company,
) -> None:
    app = make_app(michael)
    browser = Browser(michael)
    wrong = browser.authorize(app, redirect_uri="https://evil.test/cb")
    assert wrong.status_code == 400 and "location" not in wrong.headers
    unknown = browser.authorize(App("app_unknown", "x"))
    assert unknown.status_code == 400 and "location" not in unknown.headers
    # Once the redirect URI is known good, errors go back to the app.
    bad_type = browser.http.get(
        "/oauth/authorize",
        params={
            "response_type": "token",
            "client_id": app.uid,
            "redirect_uri": REDIRECT,
            "state": "s",
        },
    )
    assert callback(bad_type)["error"] == "unsupported_response_type"


def test_only_admins_may_approve(michael: Company) -> None:
    app = make_app(michael)
    dwight = michael.api.ok(
        "POST", "/porch/teammates", 201, json={"email": "dwight@dundermifflin.com"}
    )
    set_password(michael, dwight["id"], "Bears beets Battlestar")
    browser = Browser(michael)
    signed = browser.sign_in(app, "dwight@dundermifflin.com", "Bears beets Battlestar")
    assert signed.status_code == 303
    page = browser.http.get(signed.headers["location"])
    assert page.status_code == 403
    assert (
        "You need to be an administrator of your Front instance to authorize this request"
        in page.text
    )
    refused = browser.consent(app, "anything")
    assert refused.status_code == 403 and "location" not in refused.headers
    assert michael.api.ok("GET", f"/porch/applications/{app.uid}/grants")["_results"] == []


def test_deny_wrong_password_and_missing_csrf(michael: Company) -> None:
    app = make_app(michael)
    browser = Browser(michael)
    wrong = browser.sign_in(app, michael_email(michael), "not my password")
    assert wrong.status_code == 401 and "set-cookie" not in wrong.headers
    assert "Wrong email or password" in wrong.text
    # Not signed in: the consent is not taken, the sign-in form is shown.
    assert "Sign in" in browser.consent(app, None).text

    signed = browser.sign_in(app, michael_email(michael))
    cookie = signed.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    forged = browser.consent(app, None)
    assert forged.status_code == 403 and "location" not in forged.headers
    page = browser.http.get(signed.headers["location"])
    denied = callback(browser.consent(app, csrf_of(page), decision="deny"))
    assert denied["error"] == "access_denied" and denied["state"] == "xyz" and "code" not in denied


def test_oauth_tokens_reach_shared_resources_only(michael: Company) -> None:
    api = michael.api
    api.ok("PATCH", f"/porch/teammates/{michael.admin_id}", json={"api_private_access": True})
    private = api.ok("POST", f"/teammates/{michael.admin_id}/tags", 201, json={"name": "Diary"})
    shared = api.ok("POST", "/company/tags", 201, json={"name": "Paper"})
    app = make_app(michael)
    crm = as_app(michael, exchange(michael, app, approve(michael, app))["access_token"])
    listed = {t["id"] for t in crm.get("/tags").json()["_results"]}
    assert shared["id"] in listed and private["id"] not in listed
    assert crm.get(f"/tags/{private['id']}").status_code == 404
    assert crm.get("/porch/tokens").status_code == 403  # no provisioning either


def test_app_traffic_has_its_own_rate_bucket(michael: Company) -> None:
    app, other = make_app(michael), make_app(michael, "Other app")
    crm = as_app(michael, exchange(michael, app, approve(michael, app))["access_token"])
    other_client = as_app(
        michael, exchange(michael, other, approve(michael, other))["access_token"]
    )
    michael.api.ok("PATCH", "/porch/company", json={"rate_limit_per_minute": 3})
    statuses = [michael.api.get("/me").status_code for _ in range(5)]
    assert 429 in statuses
    # The company's API-token budget is spent; the app draws from its own 120 a minute.
    resp = crm.get("/me")
    assert resp.status_code == 200 and resp.headers["x-ratelimit-limit"] == "120"
    served = 1
    for _ in range(300):
        if crm.get("/me").status_code == 429:
            break
        served += 1
    else:
        raise AssertionError("the app's budget never ran out")
    assert served <= 240  # 120 a minute (two windows if a minute turned meanwhile)
    assert other_client.get("/me").status_code == 200  # each app has its own bucket


def test_admins_list_and_revoke_grants(michael: Company) -> None:
    app = make_app(michael)
    tokens = exchange(michael, app, approve(michael, app))
    grants = michael.api.ok("GET", f"/porch/applications/{app.uid}/grants")["_results"]
    assert [g["teammate_id"] for g in grants] == [michael.admin_id]
    assert grants[0]["revoked_at"] is None
    michael.api.ok("DELETE", f"/porch/applications/{app.uid}/grants/{grants[0]['id']}", 204)
    assert as_app(michael, tokens["access_token"]).get("/me").status_code == 401
    refresh = token(
        michael, app, grant_type="refresh_token", refresh_token=str(tokens["refresh_token"])
    )
    assert refresh.json()["error"] == "invalid_grant"
    after = michael.api.ok("GET", f"/porch/applications/{app.uid}/grants")["_results"]
    assert after[0]["revoked_at"] is not None
    short = michael.api.put(
        f"/porch/teammates/{michael.admin_id}/password", json={"password": "short"}
    )
    assert short.status_code == 400


def _porch(company: Company, *args: str, stdin: str = "") -> str:
    """Run the ``porch`` command on the test server's database, as an operator would."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PORCH_")}
    env["PORCH_DATABASE_URL"] = company.server.settings.database_url
    cmd = [str(Path(sys.executable).parent / "porch"), *args[:2]]
    cmd += ["--data-dir", str(company.server.settings.data_dir), "--company", company.id, *args[2:]]
    done = subprocess.run(
        cmd, env=env, input=stdin, capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_cli_sets_passwords_and_revokes_grants(dunder_mifflin: Company) -> None:
    _porch(
        dunder_mifflin,
        "teammates",
        "set-password",
        michael_email(dunder_mifflin),
        "--password-stdin",
        stdin=PASSWORD + "\n",
    )
    app = make_app(dunder_mifflin)
    tokens = exchange(dunder_mifflin, app, approve(dunder_mifflin, app))
    listed = json.loads(_porch(dunder_mifflin, "oauth", "grants", "--app", app.uid, "--json"))
    assert [g["revoked_at"] for g in listed] == [None]
    _porch(dunder_mifflin, "oauth", "revoke-grant", "--app", app.uid, listed[0]["id"])
    refresh = token(
        dunder_mifflin, app, grant_type="refresh_token", refresh_token=str(tokens["refresh_token"])
    )
    assert refresh.json()["error"] == "invalid_grant"
