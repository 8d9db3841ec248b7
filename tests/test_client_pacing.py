"""The SDK's pacing decisions and encodings, as pure functions of headers and time (the same
behaviours against a real Porch are in test_client_retries.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest

from porch.client._base import form, query
from porch.client._pacing import MARGIN, Pacer, RateLimit, read_rate_limit
from porch.client.errors import retry_after_seconds

NOW = 1_700_000_000.0


def headers(limit: int, remaining: int, reset: float) -> httpx.Headers:
    return httpx.Headers(
        {
            "x-ratelimit-limit": str(limit),
            "x-ratelimit-remaining": str(remaining),
            "x-ratelimit-reset": str(reset),
        }
    )


def test_one_request_at_a_time_until_the_budget_is_known() -> None:
    pacer = Pacer(0.1)
    assert pacer.admit(NOW) == 0.0
    assert pacer.admit(NOW) is None  # wait for the first answer
    pacer.answered(headers(100, 99, NOW + 30), NOW)
    assert pacer.admit(NOW) == 0.0 and pacer.admit(NOW) == 0.0


def test_the_reserve_is_kept_until_the_reset() -> None:
    pacer = Pacer(0.3)
    pacer.admit(NOW)
    pacer.answered(headers(10, 5, NOW + 20), NOW)
    assert [pacer.admit(NOW) for _ in range(2)] == [0.0, 0.0]
    assert pacer.admit(NOW) == pytest.approx(20 + MARGIN)
    # Answers cannot raise the estimate within the window...
    pacer.answered(headers(10, 4, NOW + 20), NOW + 1)
    pacer.answered(headers(10, 3, NOW + 20), NOW + 1)
    assert pacer.admit(NOW + 1) == pytest.approx(19 + MARGIN)
    # ... and the next window starts full.
    assert pacer.admit(NOW + 20 + MARGIN) == 0.0
    assert pacer.reported == RateLimit(10, 3, NOW + 20)


def test_answers_in_flight_are_assumed_uncounted() -> None:
    pacer = Pacer(0.0)
    pacer.admit(NOW)
    pacer.answered(headers(10, 9, NOW + 20), NOW)
    assert [pacer.admit(NOW) for _ in range(9)] == [0.0] * 9
    assert pacer.admit(NOW) == pytest.approx(20 + MARGIN)
    # One answer says 8 left, but 8 more requests are still on their way.
    pacer.answered(headers(10, 8, NOW + 20), NOW)
    assert pacer.admit(NOW) == pytest.approx(20 + MARGIN)


def test_a_late_answer_about_a_past_window_is_ignored() -> None:
    pacer = Pacer(0.5)
    pacer.admit(NOW)
    pacer.answered(headers(10, 2, NOW + 60), NOW)
    pacer.admit(NOW + 61)  # the window turned; the estimate is full again
    pacer.answered(headers(10, 9, NOW + 120), NOW + 61)
    pacer.answered(headers(10, 0, NOW + 60), NOW + 61.5)
    assert pacer.reported.reset == NOW + 120
    assert pacer.admit(NOW + 62) == 0.0


def test_a_refusal_blocks_everyone_until_it_ends() -> None:
    pacer = Pacer(0.1)
    pacer.admit(NOW)
    pacer.answered(headers(100, 50, NOW + 60), NOW)
    pacer.block(NOW + 5)
    assert pacer.admit(NOW + 1) == 4.0


def test_without_headers_nothing_is_paced() -> None:
    pacer = Pacer(0.1)
    pacer.admit(NOW)
    pacer.answered(httpx.Headers(), NOW)
    assert all(pacer.admit(NOW) == 0.0 for _ in range(1000))


def test_reading_the_headers() -> None:
    assert read_rate_limit(headers(50, 7, NOW + 3), NOW) == RateLimit(50, 7, NOW + 3)
    # A reset in seconds rather than a timestamp.
    assert read_rate_limit(headers(50, 7, 12), NOW) == RateLimit(50, 7, NOW + 12)
    assert read_rate_limit(httpx.Headers({"x-ratelimit-limit": "5"}), NOW) is None
    assert retry_after_seconds(httpx.Headers({"retry-after": "7"})) == 7.0
    when = (datetime.now(UTC) + timedelta(seconds=30)).strftime("%a, %d %b %Y %H:%M:%S GMT")
    after = retry_after_seconds(httpx.Headers({"retry-after": when}))
    assert after is not None and 25 < after <= 30
    assert retry_after_seconds(httpx.Headers({"retry-after": "soon"})) is None


def test_query_strings_and_forms_in_fronts_syntax() -> None:
    params = query({"q": {"types": ["tag", "archive"], "after": 1.5}, "limit": 10, "x": None})
    assert str(params) == "q%5Btypes%5D=tag&q%5Btypes%5D=archive&q%5Bafter%5D=1.5&limit=10"
    fields = form({"to": ["a@x.com", "b@x.com"], "options": {"archive": False}, "body": "hi"})
    assert fields == {"to[]": ["a@x.com", "b@x.com"], "options[archive]": ["false"], "body": ["hi"]}
