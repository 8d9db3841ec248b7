"""The server-rendered pages of the OAuth flow: sign-in, consent, and errors. No JavaScript.

Every value shown is HTML-escaped; the authorization request's parameters travel in hidden
fields. Pages may not be framed (clickjacking the consent button), cached or referred onward.
"""

from __future__ import annotations

from html import escape

from porch.api.http import Response

# The authorization request's parameters a page carries to its form's target.
AUTHORIZE_PARAMS = ("response_type", "client_id", "redirect_uri", "state")
NOT_ADMIN = "You need to be an administrator of your Front instance to authorize this request"

_HEADERS = [
    (
        "content-security-policy",
        "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'",
    ),
    ("x-frame-options", "DENY"),
    ("cache-control", "no-store"),
    ("referrer-policy", "no-referrer"),
]
_STYLE = (
    "body{font-family:system-ui,sans-serif;max-width:28rem;margin:4rem auto;padding:0 1rem}"
    "label{display:block;margin:.6rem 0}input[type=email],input[type=password]{width:100%}"
    "button{margin:.8rem .6rem 0 0;padding:.4rem 1rem}.error{color:#b00020}"
)


def _page(
    title: str, body: str, status: int = 200, headers: list[tuple[str, str]] | None = None
) -> Response:
    html = (
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        f"<title>{escape(title)}</title><style>{_STYLE}</style></head>"
        f"<body><h1>{escape(title)}</h1>{body}</body></html>"
    )
    return Response(
        status, html.encode(), "text/html; charset=utf-8", headers=_HEADERS + (headers or [])
    )


def _hidden(params: dict[str, str]) -> str:
    return "".join(
        f'<input type=hidden name="{escape(k)}" value="{escape(params[k])}">'
        for k in AUTHORIZE_PARAMS
        if params.get(k) is not None
    )


def sign_in(
    params: dict[str, str], app_name: str, error: str | None = None, status: int = 200
) -> Response:
    """The sign-in form; it posts to /oauth/sign-in and comes back to the authorization."""
    problem = f"<p class=error role=alert>{escape(error)}</p>" if error else ""
    body = (
        f"<p>Sign in to let <strong>{escape(app_name)}</strong> access your company.</p>"
        f"{problem}<form method=post action=/oauth/sign-in>{_hidden(params)}"
        "<label>Email <input type=email name=email required autocomplete=username></label>"
        "<label>Password <input type=password name=password required "
        "autocomplete=current-password></label>"
        "<button type=submit>Sign in</button></form>"
    )
    return _page("Sign in to Porch", body, status)


def consent(params: dict[str, str], app_name: str, who: str, csrf: str) -> Response:
    """The consent form: approve or deny, posted back to /oauth/authorize."""
    body = (
        f"<p>Signed in as {escape(who)}.</p>"
        f"<p><strong>{escape(app_name)}</strong> asks to access your company's shared "
        "resources (shared inboxes, conversations, contacts, tags…) with read, write, delete "
        "and send permissions. It cannot see private inboxes.</p>"
        f"<form method=post action=/oauth/authorize>{_hidden(params)}"
        f'<input type=hidden name=csrf_token value="{escape(csrf)}">'
        "<button type=submit name=decision value=approve>Allow</button>"
        "<button type=submit name=decision value=deny>Deny</button></form>"
    )
    return _page(f"Authorize {app_name}", body)


def error(message: str, status: int) -> Response:
    """A request that cannot go back to the app (unknown client or redirect URI) or that the
    signed-in teammate may not approve."""
    return _page("Authorization failed", f"<p class=error role=alert>{escape(message)}</p>", status)


def redirect(
    location: str, headers: list[tuple[str, str]] | None = None, status: int = 302
) -> Response:
    return Response(
        status,
        b"",
        None,
        headers=[("location", location), ("cache-control", "no-store"), *(headers or [])],
    )
