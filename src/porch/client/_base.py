"""What the sync and async clients share: paths, query strings, forms, answers and retries."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from email.utils import parsedate_to_datetime
from functools import lru_cache
from typing import Any, Protocol
from urllib.parse import quote

import httpx

from porch import __version__
from porch.client._pacing import backoff
from porch.client.errors import error_for, retry_after_seconds

JSON = dict[str, Any]
Params = Mapping[str, Any]
Pairs = list[tuple[str, str]]


class Answered(Protocol):
    """What is read of an answer: an ``httpx.Response``, or the async client's light reply
    to a success (``_fast.Reply``)."""

    @property
    def status_code(self) -> int: ...
    @property
    def headers(self) -> Mapping[str, str]: ...
    @property
    def content(self) -> bytes: ...
    @property
    def is_success(self) -> bool: ...
    def json(self) -> Any: ...


DEFAULT_USER_AGENT = f"porch-client/{__version__} httpx/{httpx.__version__}"
# Methods whose retry cannot do anything twice (RFC 9110 §9.2.2).
IDEMPOTENT = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
# A merged conversation answers 301 to the surviving one's same route, for every method.
FOLLOWED = frozenset({301, 302, 307, 308})
MAX_REDIRECTS = 5
RETRIED_STATUSES = frozenset({502, 503, 504})
# Errors on which the request cannot have reached the server: safe to retry for any method.
_NEVER_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
_RETRIED_ERRORS = (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError)


def segment(ref: str) -> str:
    """An id or alias as one path segment (``alt:email:a@b.com`` stays readable)."""
    return quote(ref, safe=":@!$&'()*+,;=")


def segment_all(text: str) -> str:
    """Free text as one path segment, every reserved character encoded (search queries)."""
    return quote(text, safe="")


def scalar(value: object) -> str:
    """A query or form value: booleans as Front writes them, datetimes as UNIX seconds."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return repr(round(value.timestamp(), 3))
    return str(value)


def flatten(name: str, value: object, *, array_suffix: str) -> list[tuple[str, str]]:
    """``{"q": {"types": ["a", "b"]}}`` as ``q[types]=a, q[types]=b`` (``array_suffix="[]"``
    gives ``q[types][]``, the form of multipart bodies); None values are left out."""
    if value is None:
        return []
    if isinstance(value, Mapping):
        out: list[tuple[str, str]] = []
        for key, item in value.items():
            out += flatten(f"{name}[{key}]" if name else str(key), item, array_suffix=array_suffix)
        return out
    if isinstance(value, Sequence) and not isinstance(value, str | bytes):
        out = []
        for item in value:
            out += flatten(name + array_suffix, item, array_suffix=array_suffix)
        return out
    return [(name, scalar(value))]


def pairs(params: Params | None) -> Pairs | None:
    """Query parameters as (name, value) pairs, nested mappings in Front's ``q[name]=value``
    syntax."""
    if params is None:
        return None
    return flatten("", params, array_suffix="")


def query(params: Params | None) -> httpx.QueryParams | None:
    """Query parameters as httpx takes them (``pairs``)."""
    found = pairs(params)
    return None if found is None else httpx.QueryParams(tuple(found))


def form(body: Mapping[str, Any]) -> dict[str, list[str]]:
    """A JSON body as multipart form fields (``to[]``, ``options[archive]``), as Front takes it
    for uploads."""
    fields: dict[str, list[str]] = {}
    for key, value in flatten("", body, array_suffix="[]"):
        fields.setdefault(key, []).append(value)
    return fields


def compact(**fields: Any) -> JSON:
    """A request body of the fields given (None means "not given")."""
    return {key: value for key, value in fields.items() if value is not None}


def answer(response: Answered) -> Any:
    """The body of a successful answer (JSON parsed, None when empty, bytes when not JSON);
    an error answer is raised as its typed ApiError."""
    if not response.is_success:
        assert isinstance(response, httpx.Response)  # only successes come lighter
        raise error_for(response)
    if response.status_code == 204 or not response.content:
        return None
    content_type = response.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type == "application/json" or content_type.endswith("+json"):
        return response.json()
    return response.content


def as_object(value: Any) -> JSON:
    """An answer expected to be one JSON object (an empty answer is an empty one)."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise TypeError(f"expected a JSON object, got {type(value).__name__}")
    return value


def next_url(page: Any) -> str | None:
    """``_pagination.next`` of a page, or None at the end."""
    if not isinstance(page, dict):
        return None
    pagination = page.get("_pagination")
    nxt = pagination.get("next") if isinstance(pagination, dict) else None
    return str(nxt) if nxt else None


def redirect_target(response: httpx.Response) -> httpx.URL | None:
    """Where a redirect leads, if it is to be followed: same origin only, since the request
    is repeated as it is, token and body included."""
    if response.status_code not in FOLLOWED or "location" not in response.headers:
        return None
    target = response.url.join(response.headers["location"])
    source = response.url
    if (target.scheme, target.host, target.port) != (source.scheme, source.host, source.port):
        return None
    return target


def is_company_limit(response: Answered) -> bool:
    """Whether a 429 is the company's budget (shared by every call) rather than a burst
    limit on one resource: Front's sample reads ``remaining > 0`` as a burst hit."""
    if response.headers.get("x-front-tier"):
        return False
    return response.headers.get("x-ratelimit-remaining", "0").strip() in ("0", "0.0")


@dataclass(frozen=True, slots=True)
class Retries:
    """When to try a request again, and after how long."""

    max_retries: int
    max_wait: float
    backoff: float

    def after_response(
        self, response: Answered, *, attempt: int, unsafe_ok: bool, now: float
    ) -> float | None:
        """Seconds to wait before retrying ``response``'s request, or None not to retry."""
        if attempt >= self.max_retries:
            return None
        status = response.status_code
        if status == 429:
            # The server refused before doing anything: any method may be retried.
            wait = retry_after_seconds(response.headers)
            if wait is None:
                reset = response.headers.get("x-ratelimit-reset")
                wait = _until(reset, now) if reset else backoff(attempt, self.backoff)
            return wait if wait <= self.max_wait else None
        if status in RETRIED_STATUSES and unsafe_ok:
            wait = retry_after_seconds(response.headers)
            if wait is None:
                return backoff(attempt, self.backoff)
            return wait if wait <= self.max_wait else None
        return None

    def after_error(
        self, exc: httpx.TransportError, *, attempt: int, unsafe_ok: bool
    ) -> float | None:
        """Seconds to wait before retrying after a failed connection, or None not to retry."""
        if attempt >= self.max_retries or not isinstance(exc, _RETRIED_ERRORS):
            return None
        if isinstance(exc, _NEVER_SENT) or unsafe_ok:
            return backoff(attempt, self.backoff)
        return None


def _until(reset: str, now: float) -> float:
    try:
        value = float(reset)
    except ValueError:
        return 1.0
    return max(0.0, value - now if value > 1e9 else value)


def server_time(response: Answered) -> float | None:
    """The time of the server's Date header, if it sent a readable one."""
    value = response.headers.get("date")
    if not value:
        return None
    return _date(value)


@lru_cache(maxsize=8)
def _date(value: str) -> float | None:
    # A Date header changes once a second: parsed once, not per answer.
    try:
        return parsedate_to_datetime(value).timestamp()
    except (TypeError, ValueError):
        return None
