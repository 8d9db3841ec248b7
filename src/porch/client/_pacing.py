"""Pacing by the rate-limit headers: the state a client shares across its calls, without I/O.

Every response reports the company's budget (``x-ratelimit-limit``), what is left of it
(``x-ratelimit-remaining``) and when it refills (``x-ratelimit-reset``, a UNIX timestamp). The
pacer keeps an estimate of what is left, less the requests in flight, and admits a request only
while the estimate is above the reserve (``reserve × limit``); at or below it, callers wait for
the reset. Until a first answer has told the budget, one request at a time goes out, so that a
burst of concurrent first calls cannot overrun a small budget.

The clients hold a lock (sync) or rely on the event loop (async) around every method here.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass

# Seconds past a reset before counting on the new window (clocks and servers disagree a little).
MARGIN = 0.1
# A reset below this is a number of seconds to wait, not a timestamp.
_EPOCH_FLOOR = 1e9
MAX_BACKOFF = 30.0


@dataclass(frozen=True, slots=True)
class RateLimit:
    """The budget as the server last reported it; None before any answer reported it.

    ``limit`` requests per window, ``remaining`` of them, and ``reset``, the UNIX time (seconds)
    at which the window refills.
    """

    limit: int | None = None
    remaining: int | None = None
    reset: float | None = None


def read_rate_limit(headers: Mapping[str, str], now: float) -> RateLimit | None:
    """The ``x-ratelimit-*`` headers of a response, or None without them.

    Front and Porch send ``x-ratelimit-reset`` as a UNIX timestamp (``1700000060.0``); a small
    number is taken as seconds from ``now``, as some proxies send it.
    """
    try:
        limit = int(float(headers["x-ratelimit-limit"]))
        remaining = int(float(headers["x-ratelimit-remaining"]))
    except (KeyError, ValueError):
        return None
    reset: float | None
    try:
        reset = float(headers["x-ratelimit-reset"])
    except (KeyError, ValueError):
        reset = None
    if reset is not None and reset < _EPOCH_FLOOR:
        reset = now + reset
    return RateLimit(limit, max(0, remaining), reset)


def backoff(attempt: int, base: float) -> float:
    """Exponential backoff with jitter: about ``base × 2**attempt`` seconds, capped."""
    # Jitter spreads the retries of many clients; it needs no cryptographic randomness.
    return min(base * 2.0**attempt, MAX_BACKOFF) * random.uniform(0.5, 1.0)  # noqa: S311


class Pacer:
    """When the next request may go, from what the answers so far have reported."""

    def __init__(self, reserve: float) -> None:
        if not 0.0 <= reserve < 1.0:
            raise ValueError("reserve is a share of the limit: 0 <= reserve < 1")
        self.reserve = reserve
        self.reported = RateLimit()
        # What we believe is left in the window ending at _window_end, our sends deducted.
        self._estimate: int | None = None
        self._window_end: float | None = None
        self._in_flight = 0
        self._probed = False
        self._blocked_until = 0.0

    def admit(self, now: float) -> float | None:
        """0.0 when a request may go now (it is then counted as sent); otherwise the seconds
        to wait before asking again, or None to wait for an answer to a request in flight."""
        wait = self._wait(now)
        if wait == 0.0:
            self.force()
        return wait

    def force(self) -> None:
        """Count a request as sent whatever the budget (the caller waited long enough)."""
        self._in_flight += 1
        if self._estimate is not None:
            self._estimate -= 1

    def answered(self, headers: Mapping[str, str], now: float) -> None:
        """An answer came back: learn the budget from its headers."""
        self._in_flight = max(0, self._in_flight - 1)
        self._probed = True
        report = read_rate_limit(headers, now)
        if report is None:
            return
        reset, remaining = report.reset, report.remaining or 0
        if self._window_end is not None and reset is not None and reset < self._window_end - 1:
            return  # a late answer about a window already over
        self.reported = report
        if reset is not None and now >= reset + MARGIN:
            return
        # Requests still in flight may or may not have been counted yet: assume they were not.
        fresh = remaining - self._in_flight
        if self._estimate is None or reset != self._window_end:
            self._estimate = fresh
        else:
            self._estimate = min(self._estimate, fresh)
        self._window_end = reset

    def failed(self) -> None:
        """A request got no answer."""
        self._in_flight = max(0, self._in_flight - 1)

    def block(self, until: float) -> None:
        """Send nothing before ``until`` (the server refused the company's budget)."""
        self._blocked_until = max(self._blocked_until, until)
        if self._estimate is not None:
            self._estimate = 0

    def _wait(self, now: float) -> float | None:
        if now < self._blocked_until:
            return self._blocked_until - now
        if not self._probed:
            return None if self._in_flight else 0.0
        limit = self.reported.limit
        if self._estimate is None or limit is None:
            return 0.0
        if self._window_end is not None and now >= self._window_end + MARGIN:
            # A new window starts full; its reset is known once an answer reports it.
            self._estimate = limit - self._in_flight
            self._window_end = None
        if self._estimate > self.reserve * limit:
            return 0.0
        if self._window_end is not None:
            return self._window_end + MARGIN - now
        # No reset to wait for: the answers in flight will tell; with none, try.
        return None if self._in_flight else 0.0
