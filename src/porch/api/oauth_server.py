"""authlib's OAuth 2.0 server (RFC 6749 code and refresh grants, RFC 7009 revocation) on
Porch's async HTTP layer.

authlib's server is synchronous: it asks its hooks for the client, the code or the token while
it validates. Porch reads those rows first (``prefetch``: at most three indexed reads, keyed by
what the request names), runs authlib on them in memory, and gets back what authlib decided
(``Outcome``); the handlers then persist that outcome with one ``do_*`` action, which re-checks
in its transaction that the code or refresh token is still unspent. A server object is made
per request, so no state is shared between requests.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass, field
from typing import Any

from authlib.oauth2 import rfc6749
from authlib.oauth2.rfc6749 import grants
from authlib.oauth2.rfc6749.requests import BasicOAuth2Payload
from authlib.oauth2.rfc6749.util import extract_basic_authorization
from authlib.oauth2.rfc6750 import BearerTokenGenerator
from authlib.oauth2.rfc7009 import RevocationEndpoint

from porch.domain import oauth
from porch.domain.auth import hash_secret
from porch.store import oauth as store
from porch.store.db import Reader
from porch.timeutil import now_ms

OAuth2Error = rfc6749.OAuth2Error


@dataclass
class Outcome:
    """What the request named (read before authlib runs) and what authlib decided."""

    app: store.App | None = None
    code: store.Code | None = None
    token: store.Token | None = None
    # Decisions, persisted by the handler.
    new_code: tuple[str, str] | None = None  # (code, redirect_uri as requested)
    issued: dict[str, Any] | None = None
    spend_code: store.Code | None = None
    spend_refresh: store.Token | None = None
    revoke: store.Token | None = None
    # A spent code or rotated refresh token presented again: this grant must be revoked.
    reused: tuple[int, int, str] | None = None  # (grant key, application key, what)
    extra: dict[str, str] = field(default_factory=dict)


class Client(rfc6749.ClientMixin):  # type: ignore[misc]  # authlib is untyped
    """An application as authlib's client: confidential, HTTP Basic only, code + refresh."""

    def __init__(self, app: store.App) -> None:
        self.app = app

    def get_client_id(self) -> str:
        return self.app.uid

    def get_default_redirect_uri(self) -> str | None:
        # Only an app with a single registered URI may leave redirect_uri out (RFC 6749 §3.1.2.3).
        return self.app.redirect_uris[0] if len(self.app.redirect_uris) == 1 else None

    def get_allowed_scope(self, scope: str | None) -> str:
        return ""  # Front's OAuth has no scopes: what an app may do is set on the app

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return redirect_uri in self.app.redirect_uris

    def check_client_secret(self, client_secret: str) -> bool:
        return hmac.compare_digest(client_secret.encode(), self.app.secret.encode())

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        return method == "client_secret_basic"

    def check_response_type(self, response_type: str) -> bool:
        return response_type == "code"

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type in ("authorization_code", "refresh_token")


class _Code(rfc6749.AuthorizationCodeMixin):  # type: ignore[misc]
    def __init__(self, code: store.Code) -> None:
        self.code = code

    def get_redirect_uri(self) -> str:
        return self.code.redirect_uri

    def get_scope(self) -> str:
        return ""


class _Token(rfc6749.TokenMixin):  # type: ignore[misc]
    def __init__(self, token: store.Token) -> None:
        self.token = token

    def check_client(self, client: Client) -> bool:
        return self.token.application_id == client.app.id

    def get_scope(self) -> str:
        return ""


def _live(token: store.Token, now: int) -> bool:
    return (
        token.revoked_at is None
        and token.grant_revoked_at is None
        and token.rotated_at is None
        and token.expires_at > now
    )


class _CodeGrant(grants.AuthorizationCodeGrant):  # type: ignore[misc]
    TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic"]
    server: Server

    def save_authorization_code(self, code: str, request: Request) -> None:
        self.server.outcome.new_code = (code, request.payload.redirect_uri or "")

    def query_authorization_code(self, code: str, client: Client) -> _Code | None:
        found = self.server.outcome.code
        if found is None or found.application_id != client.app.id:
            return None
        if found.used_at is not None and found.grant_revoked_at is None:
            self.server.outcome.reused = (found.grant_id, found.application_id, "code")
            return None
        if found.used_at is not None or found.grant_revoked_at is not None:
            return None
        if found.expires_at <= now_ms():
            return None
        return _Code(found)

    def delete_authorization_code(self, authorization_code: _Code) -> None:
        self.server.outcome.spend_code = authorization_code.code

    def authenticate_user(self, authorization_code: _Code) -> int:
        return authorization_code.code.teammate_id


class _RefreshGrant(grants.RefreshTokenGrant):  # type: ignore[misc]
    TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic"]
    # Every refresh rotates the refresh token.
    INCLUDE_NEW_REFRESH_TOKEN = True
    server: Server

    def authenticate_refresh_token(self, refresh_token: str) -> _Token | None:
        found = self.server.outcome.token
        if found is None or found.kind != "refresh":
            return None
        if (
            found.rotated_at is not None
            and found.revoked_at is None
            and found.grant_revoked_at is None
        ):
            self.server.outcome.reused = (found.grant_id, found.application_id, "refresh token")
            return None
        return _Token(found) if _live(found, now_ms()) else None

    def authenticate_user(self, refresh_token: _Token) -> int:
        return refresh_token.token.teammate_id

    def revoke_old_credential(self, refresh_token: _Token) -> None:
        self.server.outcome.spend_refresh = refresh_token.token


class _Revocation(RevocationEndpoint):  # type: ignore[misc]
    CLIENT_AUTH_METHODS = ["client_secret_basic"]
    server: Server

    def query_token(self, token_string: str, token_type_hint: str | None) -> _Token | None:
        found = self.server.outcome.token
        return _Token(found) if found is not None else None

    def revoke_token(self, token: _Token, request: Request) -> None:
        self.server.outcome.revoke = token.token


class Request(rfc6749.OAuth2Request):  # type: ignore[misc]
    """One request as authlib reads it: query and form parameters, headers."""

    def __init__(
        self,
        method: str,
        uri: str,
        headers: dict[str, str],
        args: dict[str, str],
        form: dict[str, str],
    ) -> None:
        super().__init__(method, uri, headers=headers)
        self._args = args
        self._form = form
        self.payload = BasicOAuth2Payload({**args, **form})

    @property
    def args(self) -> dict[str, str]:
        return self._args

    @property
    def form(self) -> dict[str, str]:
        return self._form


class Server(rfc6749.AuthorizationServer):  # type: ignore[misc]
    """authlib's authorization server over one request's prefetched rows."""

    def __init__(self, outcome: Outcome) -> None:
        super().__init__(scopes_supported=None)
        self.outcome = outcome
        self.register_grant(_CodeGrant)
        self.register_grant(_RefreshGrant)
        self.register_endpoint(_Revocation)
        self.register_token_generator(
            "default",
            BearerTokenGenerator(
                access_token_generator=lambda **_: oauth.new_access_token(),
                refresh_token_generator=lambda **_: oauth.new_refresh_token(),
                expires_generator=lambda client, grant_type: oauth.ACCESS_SECONDS,
            ),
        )

    def query_client(self, client_id: str) -> Client | None:
        app = self.outcome.app
        if app is None or app.uid != client_id or not app.enabled:
            return None
        return Client(app)

    def save_token(self, token: dict[str, Any], request: Request) -> None:
        self.outcome.issued = token

    def create_oauth2_request(self, request: Request) -> Request:
        return request

    def handle_response(
        self, status: int, body: Any, headers: list[tuple[str, str]]
    ) -> tuple[int, Any, list[tuple[str, str]]]:
        return status, body, list(headers)

    def send_signal(self, name: str, *args: Any, **kwargs: Any) -> None:
        pass


async def prefetch(conn: Reader, req: Request) -> Outcome:
    """Read the rows the request names: the client (Basic auth, else ``client_id``), and the
    code, refresh token or token to revoke, by their hashes."""
    out = Outcome()
    basic_id, _ = extract_basic_authorization(req.headers)
    client_id = basic_id or req.payload.data.get("client_id")
    if client_id:
        out.app = await store.app_by_uid(conn, uid=client_id)
    form = req.form
    if form.get("code"):
        out.code = await store.code_by_hash(conn, code_hash=hash_secret(form["code"]))
    secret = form.get("refresh_token") or form.get("token")
    if secret:
        out.token = await store.token_by_hash(conn, token_hash=hash_secret(secret))
    return out
