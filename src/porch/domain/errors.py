"""Typed domain errors, rendered once into Front's ``_error`` envelope by the API layer.

PorchError
├── BadRequest          400  validation, malformed input
├── Unauthorized        401  missing, unknown or revoked token
├── Forbidden           403  the token lacks a scope or namespace
├── NotFound            404  unknown id or alias, or invisible to this token
├── MethodNotAllowed    405
├── Conflict            409  uniqueness or version conflicts
├── PayloadTooLarge     413
└── RateLimited         429  carries retry_after and the tier that was hit
"""

from __future__ import annotations


class PorchError(Exception):
    """An error a client caused, with the HTTP status Front gives it."""

    status = 500
    title = "Internal server error"

    def __init__(self, message: str, *, details: list[str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or []


class Moved(PorchError):
    """The object named was merged into another; the request belongs there."""

    status = 301
    title = "Moved permanently"

    def __init__(self, old_ref: str, new_ref: str) -> None:
        super().__init__(f"{old_ref} was merged into {new_ref}")
        self.old_ref = old_ref
        self.new_ref = new_ref


class BadRequest(PorchError):
    status = 400
    title = "Bad request"


class Unauthorized(PorchError):
    status = 401
    title = "Unauthorized"


class Forbidden(PorchError):
    status = 403
    title = "Forbidden"


class NotFound(PorchError):
    status = 404
    title = "Not found"


class MethodNotAllowed(PorchError):
    status = 405
    title = "Method not allowed"

    def __init__(self, message: str, *, allow: list[str]) -> None:
        super().__init__(message)
        self.allow = allow


class Conflict(PorchError):
    status = 409
    title = "Conflict"


class PayloadTooLarge(PorchError):
    status = 413
    title = "Payload too large"


class RateLimited(PorchError):
    status = 429
    title = "Too Many Requests"

    def __init__(self, message: str, *, retry_after: int, tier: str | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after
        self.tier = tier


def not_found(kind: str, ref: str) -> NotFound:
    """The one wording for "this id or alias names nothing you can see"."""
    return NotFound(f"Unknown {kind} {ref!r}")
