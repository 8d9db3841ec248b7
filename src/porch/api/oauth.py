"""OAuth 2.0 for applications: authorize (sign-in and consent pages), token, revoke.

These endpoints answer as OAuth clients expect rather than with Front's ``_error`` envelope:
the token and revocation endpoints with RFC 6749 §5.2 JSON errors (``invalid_grant``,
``invalid_client``, ...), the authorization endpoint by redirecting to the app with ``error=``
once the app and its redirect URI are known, and with an HTML page before that. They need no
API token, so they count against no rate budget.
"""

from __future__ import annotations

from http.cookies import CookieError, SimpleCookie
from typing import Any
from urllib.parse import parse_qsl, urlencode

import orjson

from porch.api import oauth_pages as pages
from porch.api.http import Request, Response
from porch.api.oauth_server import OAuth2Error, Outcome, Server, prefetch
from porch.api.oauth_server import Request as OAuthRequest
from porch.api.routing import Routes
from porch.domain import oauth, passwords, web_session
from porch.domain.errors import PayloadTooLarge
from porch.store import teammates

routes = Routes()

_FORM = "application/x-www-form-urlencoded"


class _BadForm(Exception):
    """A body that is not a form, or that repeats a parameter (RFC 6749 §3.1, §3.2)."""


def _pairs(raw: str) -> dict[str, str]:
    out: dict[str, str] = {}
    try:
        pairs = parse_qsl(raw, keep_blank_values=True, errors="strict")
    except (UnicodeDecodeError, ValueError) as exc:
        raise _BadForm("The parameters are not valid UTF-8") from exc
    for key, value in pairs:
        if key in out:
            raise _BadForm(f"The parameter {key} is repeated")
        out[key] = value
    return out


async def _form(req: Request) -> dict[str, str]:
    ctype = (req.header("content-type") or "").split(";", 1)[0].strip().lower()
    if ctype != _FORM:
        raise _BadForm(f"The body must be {_FORM}")
    try:
        raw = (await req.body()).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _BadForm("The body is not valid UTF-8") from exc
    except PayloadTooLarge as exc:
        raise _BadForm(exc.message) from exc
    return _pairs(raw)


def _query(req: Request) -> dict[str, str]:
    return _pairs(req.scope.get("query_string", b"").decode("latin-1"))


def _oauth_request(req: Request, args: dict[str, str], form: dict[str, str]) -> OAuthRequest:
    headers = {"Authorization": req.header("authorization") or ""}
    return OAuthRequest(req.method, req.base_url + req.path, headers, args, form)


def _json(status: int, body: Any, headers: list[tuple[str, str]] | None = None) -> Response:
    # RFC 6749 §5.1: token responses are never cached.
    extra = [(k.lower(), v) for k, v in (headers or []) if k.lower() != "content-type"]
    extra += [("cache-control", "no-store"), ("pragma", "no-cache")]
    return Response(status, orjson.dumps(body), headers=extra)


def _oauth_error(error: str, description: str, status: int = 400) -> Response:
    return _json(status, {"error": error, "error_description": description})


# --- authorization endpoint -----------------------------------------------------------------


def _cookie(req: Request) -> str | None:
    raw = req.header("cookie")
    if not raw:
        return None
    jar: SimpleCookie = SimpleCookie()
    try:
        jar.load(raw)
    except CookieError:
        return None
    morsel = jar.get(web_session.COOKIE)
    return morsel.value if morsel is not None else None


async def _validated(
    req: Request, params: dict[str, str]
) -> tuple[Server, OAuthRequest, Any] | Response:
    """authlib's checks of an authorization request: the grant, or the response for an error
    (a redirect to the app once its redirect URI is validated, else an HTML page)."""
    try:
        oreq = _oauth_request(
            req, {k: v for k, v in params.items() if k in pages.AUTHORIZE_PARAMS}, {}
        )
    except OAuth2Error as exc:
        return pages.error(exc.description or exc.error, 400)
    outcome = await prefetch(req.db, oreq)
    server = Server(outcome)
    try:
        return server, oreq, server.get_consent_grant(oreq)
    except OAuth2Error as exc:
        if exc.redirect_uri:
            _, _, headers = exc()
            return pages.redirect(dict(headers)["Location"])
        return pages.error(exc.description or exc.error, 400)
    except ValueError:
        # authlib refuses to echo a redirect URI with characters no error text may carry.
        return pages.error("The redirect_uri is not registered for this application", 400)


async def _signed_in_admin(
    req: Request, outcome: Outcome, params: dict[str, str]
) -> tuple[web_session.Session, teammates.Teammate] | Response:
    """The signed-in teammate of the app's company if an admin; else the sign-in page or
    Front's refusal."""
    app = outcome.app
    assert app is not None
    session = await web_session.read_session(req.db, _cookie(req))
    tm = None
    if session is not None and session.company_id == app.company_id:
        tm = await teammates.get(req.db, company_id=app.company_id, key=session.teammate_id)
    if session is None or tm is None or tm.is_blocked:
        return pages.sign_in(params, app.name)
    if not tm.is_admin:
        return pages.error(pages.NOT_ADMIN, 403)
    return session, tm


@routes.get("/oauth/authorize", "porch-oauth-authorize", scope=None, auth=False, front=False)
async def porch_oauth_authorize(req: Request) -> Response:
    """Ask a company admin to let an application in: sign-in first, then the consent page."""
    try:
        params = _query(req)
    except _BadForm as exc:
        return pages.error(str(exc), 400)
    checked = await _validated(req, params)
    if isinstance(checked, Response):
        return checked
    server, _, _ = checked
    who = await _signed_in_admin(req, server.outcome, params)
    if isinstance(who, Response):
        return who
    session, tm = who
    assert server.outcome.app is not None
    name = f"{tm.first_name} {tm.last_name}".strip() or tm.email
    return pages.consent(params, server.outcome.app.name, name, web_session.csrf_token(session))


@routes.post("/oauth/authorize", "porch-oauth-consent", scope=None, auth=False, front=False)
async def porch_oauth_consent(req: Request) -> Response:
    """The admin's answer: a redirect to the app with a code, or with ``error=access_denied``."""
    try:
        form = await _form(req)
    except _BadForm as exc:
        return pages.error(str(exc), 400)
    params = {k: v for k, v in form.items() if k in pages.AUTHORIZE_PARAMS}
    checked = await _validated(req, params)
    if isinstance(checked, Response):
        return checked
    server, oreq, grant = checked
    who = await _signed_in_admin(req, server.outcome, params)
    if isinstance(who, Response):
        return who
    session, tm = who
    if not web_session.check_csrf(session, form.get("csrf_token")):
        return pages.error("This form expired; open the authorization link again", 403)
    approved = form.get("decision") == "approve"
    status, _, headers = server.create_authorization_response(
        oreq, grant_user=tm.id if approved else None, grant=grant
    )
    location = dict(headers).get("Location")
    if location is None:
        return pages.error("The authorization could not be completed", status)
    outcome = server.outcome
    if outcome.new_code is not None:
        assert outcome.app is not None
        code, redirect_uri = outcome.new_code
        await oauth.do_issue_code(
            req.db, app=outcome.app, teammate_id=tm.id, code=code, redirect_uri=redirect_uri
        )
    # 303: the browser follows with a GET whatever the form's method.
    return pages.redirect(location, status=303)


@routes.post("/oauth/sign-in", "porch-oauth-sign-in", scope=None, auth=False, front=False)
async def porch_oauth_sign_in(req: Request) -> Response:
    """Check a teammate's email and password, set the session cookie, go back to the
    authorization."""
    try:
        form = await _form(req)
    except _BadForm as exc:
        return pages.error(str(exc), 400)
    params = {k: v for k, v in form.items() if k in pages.AUTHORIZE_PARAMS}
    checked = await _validated(req, params)
    if isinstance(checked, Response):
        return checked
    app = checked[0].outcome.app
    assert app is not None
    teammate_id = await passwords.sign_in(
        req.db,
        company_id=app.company_id,
        email=form.get("email", ""),
        password=form.get("password", ""),
    )
    if teammate_id is None:
        return pages.sign_in(params, app.name, "Wrong email or password", 401)
    value = await web_session.open_session(
        req.db, company_id=app.company_id, teammate_id=teammate_id
    )
    cookie = (
        f"{web_session.COOKIE}={value}; Path=/oauth; Max-Age={web_session.LIFETIME_SECONDS}; "
        "HttpOnly; SameSite=Lax"
    )
    if req.base_url.startswith("https:"):
        cookie += "; Secure"
    return pages.redirect(
        "/oauth/authorize?" + urlencode(params), headers=[("set-cookie", cookie)], status=303
    )


# --- token and revocation endpoints ---------------------------------------------------------


async def _token_request(req: Request) -> tuple[Server, OAuthRequest] | Response:
    try:
        form = await _form(req)
        if req.scope.get("query_string"):
            raise _BadForm("Parameters belong in the body, not the query string")
        oreq = _oauth_request(req, {}, form)
    except _BadForm as exc:
        return _oauth_error("invalid_request", str(exc))
    except OAuth2Error as exc:
        return _oauth_error(exc.error, exc.description or "")
    return Server(await prefetch(req.db, oreq)), oreq


def _forget_grant(req: Request, grant_id: int) -> None:
    if req.app.auth is not None:
        req.app.auth.forget_token(-grant_id)


async def _after_reuse(req: Request, outcome: Outcome) -> None:
    if outcome.reused is not None and outcome.app is not None:
        grant_id, application_id, what = outcome.reused
        await oauth.do_revoke_grant_for_reuse(
            req.db,
            company_id=outcome.app.company_id,
            grant_id=grant_id,
            application_id=application_id,
            what=what,
        )
        _forget_grant(req, grant_id)


@routes.post("/oauth/token", "porch-oauth-token", scope=None, auth=False, front=False)
async def porch_oauth_token(req: Request) -> Response:
    """Exchange a code, or rotate a refresh token, for a token pair (HTTP Basic client auth)."""
    prepared = await _token_request(req)
    if isinstance(prepared, Response):
        return prepared
    server, oreq = prepared
    status, body, headers = server.create_token_response(oreq)
    outcome = server.outcome
    if status != 200 or outcome.issued is None:
        await _after_reuse(req, outcome)
        return _json(status, body, headers)
    access, refresh = outcome.issued["access_token"], outcome.issued["refresh_token"]
    try:
        if outcome.spend_code is not None:
            issued = await oauth.do_exchange_code(
                req.db, code=outcome.spend_code, access=access, refresh=refresh
            )
        else:
            assert outcome.spend_refresh is not None
            issued = await oauth.do_refresh(
                req.db, token=outcome.spend_refresh, access=access, refresh=refresh
            )
    except oauth.GrantSpent as exc:
        return _oauth_error("invalid_grant", exc.message)
    return _json(
        200,
        {
            "access_token": issued.access_token,
            "refresh_token": issued.refresh_token,
            # Epoch seconds, as every Front timestamp (NOTES leaves s vs ms open).
            "expires_at": issued.expires_at // 1000,
            "expires_in": oauth.ACCESS_SECONDS,
            "token_type": "Bearer",
        },
    )


@routes.post("/oauth/revoke", "porch-oauth-revoke", scope=None, auth=False, front=False)
async def porch_oauth_revoke(req: Request) -> Response:
    """RFC 7009: revoke an access token, or a refresh token with its whole grant."""
    prepared = await _token_request(req)
    if isinstance(prepared, Response):
        return prepared
    server, oreq = prepared
    status, body, headers = server.create_endpoint_response("revocation", oreq)
    token = server.outcome.revoke
    if status == 200 and token is not None:
        if token.revoked_at is None and token.grant_revoked_at is None:
            await oauth.do_revoke_token(req.db, token=token)
        _forget_grant(req, token.grant_id)
    return _json(status, body, headers)
