"""The synchronous client."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Mapping
from types import TracebackType
from typing import Any

import httpx

from porch.client import _base
from porch.client._base import JSON, Params
from porch.client._pacing import Pacer, RateLimit
from porch.client.errors import TransportError, error_for
from porch.client.resources import (
    Accounts,
    Attachment,
    Channels,
    ContactLists,
    Contacts,
    Conversations,
    Events,
    Inboxes,
    Messages,
    Tags,
    Teammates,
    Teams,
)

_Items = Iterator[JSON]


class Client:
    """A client of Porch's (or Front's) API: ``Client("https://api2.frontapp.com", token)``.

    Calls return Front's JSON as plain dicts and raise :mod:`porch.client.errors`. Requests are
    paced by the rate-limit headers (keeping ``reserve`` of the budget unused), 429s are retried
    after ``retry-after``, and connection failures and 502/503/504 with exponential backoff
    (``backoff`` seconds, doubling), idempotent methods only unless a call says
    ``retry_unsafe=True``; at most ``max_retries`` times, never waiting more than ``max_wait``
    seconds at once. One client is safe to share between threads.
    """

    def __init__(
        self,
        base_url: str,
        token: str,
        *,
        reserve: float = 0.1,
        max_retries: int = 5,
        timeout: float = 30.0,
        transport: httpx.BaseTransport | None = None,
        user_agent: str | None = None,
        max_wait: float = 65.0,
        backoff: float = 0.5,
    ) -> None:
        self._http = httpx.Client(
            base_url=base_url,
            headers={
                "Authorization": f"Bearer {token}",
                "User-Agent": user_agent or _base.DEFAULT_USER_AGENT,
            },
            timeout=timeout,
            transport=transport,
        )
        self._pacer = Pacer(reserve)
        self._server_time: float | None = None
        self._retries = _base.Retries(max_retries, max_wait, backoff)
        self._changed = threading.Condition()
        calls = _Calls(self)
        self.accounts: Accounts[JSON, None, _Items] = Accounts(calls)
        self.channels: Channels[JSON, None, _Items] = Channels(calls)
        self.contact_lists: ContactLists[JSON, None, _Items] = ContactLists(calls)
        self.contacts: Contacts[JSON, None, _Items] = Contacts(calls)
        self.conversations: Conversations[JSON, None, _Items] = Conversations(calls)
        self.events: Events[JSON, None, _Items] = Events(calls)
        self.inboxes: Inboxes[JSON, None, _Items] = Inboxes(calls)
        self.messages: Messages[JSON, None, _Items] = Messages(calls)
        self.tags: Tags[JSON, None, _Items] = Tags(calls)
        self.teammates: Teammates[JSON, None, _Items] = Teammates(calls)
        self.teams: Teams[JSON, None, _Items] = Teams(calls)

    @property
    def rate_limit(self) -> RateLimit:
        """The company's budget as the last answer reported it."""
        return self._pacer.reported

    @property
    def server_time(self) -> float | None:
        """The server's clock (UNIX seconds, from its Date header) at the last answer, or None
        before the first: a cursor for ``updated_after`` that no client clock skews."""
        return self._server_time

    def me(self) -> JSON:
        """The company the token belongs to (``GET /me``)."""
        return _base.as_object(self.request("GET", "/me"))

    def request(
        self,
        method: str,
        path_or_url: str,
        *,
        params: Params | None = None,
        json: Any = None,
        data: Mapping[str, Any] | None = None,
        files: Any = None,
        headers: Mapping[str, str] | None = None,
        retry_unsafe: bool = False,
    ) -> Any:
        """Call any endpoint: a path relative to the base URL, or a full URL used as it is.

        Returns the parsed JSON body, None for an empty one (204), bytes for a body that is not
        JSON (downloads, ``message/rfc822``). ``params`` may nest one level for Front's
        ``q[name]=value`` filters (``{"q": {"statuses": ["archived"]}}``); ``data`` and
        ``files`` make a form (multipart with files) instead of a JSON body.
        """
        response = self._send(
            method.upper(),
            path_or_url,
            params=_base.query(params),
            json=json,
            data=data,
            files=files,
            headers=headers,
            retry_unsafe=retry_unsafe,
        )
        return _base.answer(response)

    def get(self, path_or_url: str, *, params: Params | None = None) -> Any:
        return self.request("GET", path_or_url, params=params)

    def post(self, path_or_url: str, *, json: Any = None, params: Params | None = None) -> Any:
        return self.request("POST", path_or_url, json=json, params=params)

    def patch(self, path_or_url: str, *, json: Any = None, params: Params | None = None) -> Any:
        return self.request("PATCH", path_or_url, json=json, params=params)

    def put(self, path_or_url: str, *, json: Any = None, params: Params | None = None) -> Any:
        return self.request("PUT", path_or_url, json=json, params=params)

    def delete(self, path_or_url: str, *, json: Any = None, params: Params | None = None) -> Any:
        return self.request("DELETE", path_or_url, json=json, params=params)

    def pages(self, path: str, params: Params | None = None) -> Iterator[JSON]:
        """Every page of a collection, whole (``_results``, ``_total``…), following
        ``_pagination.next`` as it is until it is empty."""
        url: str | None = path
        while url is not None:
            page = _base.as_object(self.request("GET", url, params=params))
            yield page
            url, params = _base.next_url(page), None

    def paginate(self, path: str, params: Params | None = None) -> Iterator[JSON]:
        """Every item of a collection, across its pages, fetched as they are consumed."""
        for page in self.pages(path, params):
            yield from page.get("_results") or []

    def download(self, url: str) -> bytes:
        """The bytes behind an attachment's ``url`` (or any path), whatever their type."""
        response = self._send(
            "GET",
            url,
            params=None,
            json=None,
            data=None,
            files=None,
            headers=None,
            retry_unsafe=False,
        )
        if not response.is_success:
            raise error_for(response)
        return response.content

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _send(
        self,
        method: str,
        url: str | httpx.URL,
        *,
        params: httpx.QueryParams | None,
        json: Any,
        data: Mapping[str, Any] | None,
        files: Any,
        headers: Mapping[str, str] | None,
        retry_unsafe: bool,
    ) -> httpx.Response:
        unsafe_ok = retry_unsafe or method in _base.IDEMPOTENT
        attempt = redirects = 0
        while True:
            self._admit()
            try:
                response = self._http.request(
                    method, url, params=params, json=json, data=data, files=files, headers=headers
                )
            except httpx.TransportError as exc:
                with self._changed:
                    self._pacer.failed()
                    self._changed.notify_all()
                wait = self._retries.after_error(exc, attempt=attempt, unsafe_ok=unsafe_ok)
                if wait is None:
                    raise TransportError(f"{method} {url}: {exc!r}") from exc
                time.sleep(wait)
                attempt += 1
                continue
            except BaseException:
                # Interrupted while in flight: the request no longer holds a place.
                with self._changed:
                    self._pacer.failed()
                    self._changed.notify_all()
                raise
            now = time.time()
            with self._changed:
                self._pacer.answered(response.headers, now)
                self._server_time = _base.server_time(response) or self._server_time
                wait = self._retries.after_response(
                    response, attempt=attempt, unsafe_ok=unsafe_ok, now=now
                )
                if (
                    wait is not None
                    and response.status_code == 429
                    and _base.is_company_limit(response)
                ):
                    self._pacer.block(now + wait)
                    wait = 0.0
                self._changed.notify_all()
            target = _base.redirect_target(response)
            if target is not None and redirects < _base.MAX_REDIRECTS:
                url, params, redirects = target, None, redirects + 1
                continue
            if wait is None:
                return response
            time.sleep(wait)
            attempt += 1

    def _admit(self) -> None:
        """Wait until the pacer lets a request go (at most ``max_wait``), and count it."""
        deadline = time.monotonic() + self._retries.max_wait
        with self._changed:
            while True:
                wait = self._pacer.admit(time.time())
                if wait == 0.0:
                    return
                left = deadline - time.monotonic()
                if left <= 0:
                    self._pacer.force()
                    return
                self._changed.wait(left if wait is None else min(wait, left))


class _Calls:
    """What the resources call: the client, typed for the sync side."""

    def __init__(self, client: Client) -> None:
        self._client = client

    def object(
        self,
        method: str,
        path: str,
        *,
        params: Params | None = None,
        json: Any = None,
        attachments: list[Attachment] | None = None,
    ) -> JSON:
        return _base.as_object(self._call(method, path, params, json, attachments))

    def empty(
        self,
        method: str,
        path: str,
        *,
        params: Params | None = None,
        json: Any = None,
        attachments: list[Attachment] | None = None,
    ) -> None:
        self._call(method, path, params, json, attachments)

    def items(self, path: str, params: Params | None = None) -> _Items:
        return self._client.paginate(path, params)

    def _call(
        self,
        method: str,
        path: str,
        params: Params | None,
        json: Any,
        attachments: list[Attachment] | None,
    ) -> Any:
        if attachments:
            files = [("attachments[]", a) for a in attachments]
            return self._client.request(
                method, path, params=params, data=_base.form(json or {}), files=files
            )
        return self._client.request(method, path, params=params, json=json)
