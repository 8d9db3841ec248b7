"""Time as Porch stores and shows it.

Rows keep integer milliseconds since the epoch (exact, sortable, the same on every database);
the API shows epoch seconds with three decimals, as Front does.
"""

from __future__ import annotations

import time


def now_ms() -> int:
    """Milliseconds since the epoch, from the wall clock."""
    return time.time_ns() // 1_000_000


def to_api(ms: int | None) -> float | None:
    """Epoch seconds with millisecond precision, or None."""
    if ms is None:
        return None
    return ms / 1000


def from_api(seconds: float) -> int:
    """Milliseconds for an API timestamp given in (fractional) epoch seconds."""
    return round(seconds * 1000)
