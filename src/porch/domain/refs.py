"""Turning the ids and aliases a request names into integer keys.

A reference is a Front id (``tea_2f``) or, where Front accepts one, a resource alias
(``alt:email:leela@planet-express.com``); teammate references may also be a bare email. Malformed
references are simply unknown: the caller answers 404 as for an id that does not exist.
"""

from __future__ import annotations

from porch import ids

# Values that could never be stored (NUL, other C0 controls) are unknown without asking the DB.
_BAD = {chr(c) for c in range(32)} | {"\x7f"}


def clean(value: str) -> str | None:
    """``value`` if it is a plausible alias value, else None."""
    if not value or len(value) > 512 or any(ch in _BAD for ch in value):
        return None
    return value


def alias(ref: str, kind: str) -> str | None:
    """The value of ``alt:<kind>:<value>``, or None if ``ref`` is not such an alias."""
    prefix = f"alt:{kind}:"
    if ref.startswith(prefix):
        return clean(ref[len(prefix) :])
    return None


def key(prefix: str, ref: str) -> int | None:
    """The key of a plain public id of kind ``prefix``."""
    return ids.decode(prefix, ref)
