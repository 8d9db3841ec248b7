"""What a call can raise: Front's ``_error`` envelope as typed exceptions.

ApiError                the server answered with an error status
├── BadRequest          400  validation, malformed input
├── Unauthorized        401  missing, unknown or revoked token
├── Forbidden           403  the token lacks a scope or namespace
├── NotFound            404  unknown id or alias
├── Conflict            409  uniqueness or version conflicts
├── PayloadTooLarge     413
├── RateLimited         429  still refused after the retries (or the wait was too long)
└── ServerError         5xx  still failing after the retries
TransportError          no answer at all (connection refused, reset, timed out) after retries
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

__all__ = [
    "ApiError",
    "BadRequest",
    "Conflict",
    "Forbidden",
    "NotFound",
    "PayloadTooLarge",
    "RateLimited",
    "ServerError",
    "TransportError",
    "Unauthorized",
]


class ApiError(Exception):
    """An error answer: ``status``, ``title``, ``message`` and ``details`` from Front's
    ``{"_error": {...}}`` envelope (or, for a body that is not one, the status's reason phrase
    and the start of the body), and the ``response`` itself."""

    def __init__(
        self,
        response: httpx.Response,
        *,
        status: int,
        title: str,
        message: str = "",
        details: list[str] | None = None,
    ) -> None:
        super().__init__(f"{status} {title}: {message}" if message else f"{status} {title}")
        self.response = response
        self.status = status
        self.title = title
        self.message = message
        self.details = details or []


class BadRequest(ApiError):
    pass


class Unauthorized(ApiError):
    pass


class Forbidden(ApiError):
    pass


class NotFound(ApiError):
    pass


class Conflict(ApiError):
    pass


class PayloadTooLarge(ApiError):
    pass


class RateLimited(ApiError):
    """429: ``retry_after`` (seconds, None if the server gave none) and ``tier``, the burst
    limit that was hit (Front's ``x-front-tier``; None for the company's minute budget)."""

    def __init__(
        self,
        response: httpx.Response,
        *,
        status: int,
        title: str,
        message: str = "",
        details: list[str] | None = None,
    ) -> None:
        super().__init__(response, status=status, title=title, message=message, details=details)
        self.retry_after = retry_after_seconds(response.headers)
        self.tier = response.headers.get("x-front-tier")


class ServerError(ApiError):
    pass


class TransportError(Exception):
    """No answer: the connection failed or timed out (the httpx error is ``__cause__``)."""


_BY_STATUS: dict[int, type[ApiError]] = {
    400: BadRequest,
    401: Unauthorized,
    403: Forbidden,
    404: NotFound,
    409: Conflict,
    413: PayloadTooLarge,
    429: RateLimited,
}


def error_for(response: httpx.Response) -> ApiError:
    """The typed exception for an error ``response``."""
    status = response.status_code
    title = response.reason_phrase or "Error"
    message = ""
    details: list[str] = []
    envelope = _envelope(response)
    if envelope is not None:
        title = str(envelope.get("title") or title)
        message = str(envelope.get("message") or "")
        raw = envelope.get("details")
        if isinstance(raw, list):
            details = [str(d) for d in raw]
    else:
        message = response.text[:500].strip() if response.content else ""
    cls = _BY_STATUS.get(status, ServerError if status >= 500 else ApiError)
    return cls(response, status=status, title=title, message=message, details=details)


def _envelope(response: httpx.Response) -> dict[str, Any] | None:
    try:
        body = response.json()
    except ValueError:
        return None
    if isinstance(body, dict) and isinstance(body.get("_error"), dict):
        return body["_error"]  # type: ignore[no-any-return]
    return None


def retry_after_seconds(headers: Mapping[str, str]) -> float | None:
    """``retry-after`` in seconds: Front sends seconds; an HTTP date is understood too."""
    raw = headers.get("retry-after")
    if raw is None:
        return None
    try:
        return max(0.0, float(raw))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(raw)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())
