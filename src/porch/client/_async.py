"""The asynchronous client: the same calls as :class:`porch.client.Client`, awaited."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Mapping
from types import TracebackType
from typing import Any

import httpx

from porch.client import _base
from porch.client._base import JSON, Answered, Pairs, Params
from porch.client._fast import FastPath
from porch.client._pacing import Pacer, RateLimit
from porch.client._transport import WireTransport, proxied
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

_Items = AsyncIterator[JSON]
_Obj = Awaitable[JSON]
_Empty = Awaitable[None]


class AsyncClient:
    """An asyncio client of Porch's (or Front's) API:
    ``async with AsyncClient("https://api2.frontapp.com", token) as front: await front.me()``.

    Calls return Front's JSON as plain dicts and raise :mod:`porch.client.errors`. Requests are
    paced by the rate-limit headers (keeping ``reserve`` of the budget unused), 429s are retried
    after ``retry-after``, and connection failures and 502/503/504 with exponential backoff
    (``backoff`` seconds, doubling), idempotent methods only unless a call says
    ``retry_unsafe=True``; at most ``max_retries`` times, never waiting more than ``max_wait``
    seconds at once. Concurrent tasks of one event loop share one client and its pacing:
    twenty calls at once do not overrun a budget of ten. ``connections`` spreads concurrent
    calls over that many connection pools when httpx's own transport is used (worth it for bulk
    work with many calls in flight).
    """

    def __init__(
        self,
        base_url: str,
        token: str,
        *,
        reserve: float = 0.1,
        max_retries: int = 5,
        timeout: float = 30.0,
        transport: httpx.AsyncBaseTransport | None = None,
        user_agent: str | None = None,
        max_wait: float = 65.0,
        backoff: float = 0.5,
        connections: int = 1,
    ) -> None:
        # Requests go over porch.client.wire (a fraction of httpcore's CPU per request) unless
        # a proxy is configured or a transport given. With httpx's own transport, ``connections``
        # httpx clients are taken in turn: one connection pool's bookkeeping costs more per
        # request the more requests wait on it. They share one TLS context: making one loads
        # the CA bundle, tens of milliseconds each.
        tls = httpx.create_ssl_context()
        if transport is None and not proxied():
            # The wire transport has no per-pool bookkeeping to spread: one client will do.
            transport = WireTransport(ssl_context=tls, limit=max(100, connections))
        self._pool = [
            httpx.AsyncClient(
                verify=tls,
                base_url=base_url,
                headers={
                    "Authorization": f"Bearer {token}",
                    "User-Agent": user_agent or _base.DEFAULT_USER_AGENT,
                },
                timeout=timeout,
                transport=transport,
            )
            for _ in range(max(1, connections) if transport is None else 1)
        ]
        self._http = self._pool[0]
        # Simple requests skip httpx's models when the wire is underneath (``_fast.py``).
        self._fast: FastPath | None = None
        if isinstance(transport, WireTransport):
            self._fast = FastPath(
                transport.pool,
                base_url=self._http.base_url,
                headers={
                    "Authorization": f"Bearer {token}",
                    "User-Agent": self._http.headers["user-agent"],
                },
                timeout=self._http.timeout,
            )
        self._turn = 0
        # Requests sent, by method (retries included): what a bulk job cost.
        self.sent: Counter[str] = Counter()
        self._pacer = Pacer(reserve)
        self._server_time: float | None = None
        self._retries = _base.Retries(max_retries, max_wait, backoff)
        # Set (and replaced) whenever an answer changes what the pacer knows.
        self._changed = asyncio.Event()
        calls = _AsyncCalls(self)
        self.accounts: Accounts[_Obj, _Empty, _Items] = Accounts(calls)
        self.channels: Channels[_Obj, _Empty, _Items] = Channels(calls)
        self.contact_lists: ContactLists[_Obj, _Empty, _Items] = ContactLists(calls)
        self.contacts: Contacts[_Obj, _Empty, _Items] = Contacts(calls)
        self.conversations: Conversations[_Obj, _Empty, _Items] = Conversations(calls)
        self.events: Events[_Obj, _Empty, _Items] = Events(calls)
        self.inboxes: Inboxes[_Obj, _Empty, _Items] = Inboxes(calls)
        self.messages: Messages[_Obj, _Empty, _Items] = Messages(calls)
        self.tags: Tags[_Obj, _Empty, _Items] = Tags(calls)
        self.teammates: Teammates[_Obj, _Empty, _Items] = Teammates(calls)
        self.teams: Teams[_Obj, _Empty, _Items] = Teams(calls)

    @property
    def rate_limit(self) -> RateLimit:
        """The company's budget as the last answer reported it."""
        return self._pacer.reported

    @property
    def server_time(self) -> float | None:
        """The server's clock (UNIX seconds, from its Date header) at the last answer, or None
        before the first: a cursor for ``updated_after`` that no client clock skews."""
        return self._server_time

    async def me(self) -> JSON:
        """The company the token belongs to (``GET /me``)."""
        return _base.as_object(await self.request("GET", "/me"))

    async def request(
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
        response = await self._send(
            method.upper(),
            path_or_url,
            params=_base.pairs(params),
            json=json,
            data=data,
            files=files,
            headers=headers,
            retry_unsafe=retry_unsafe,
        )
        return _base.answer(response)

    async def get(self, path_or_url: str, *, params: Params | None = None) -> Any:
        return await self.request("GET", path_or_url, params=params)

    async def post(
        self, path_or_url: str, *, json: Any = None, params: Params | None = None
    ) -> Any:
        return await self.request("POST", path_or_url, json=json, params=params)

    async def patch(
        self, path_or_url: str, *, json: Any = None, params: Params | None = None
    ) -> Any:
        return await self.request("PATCH", path_or_url, json=json, params=params)

    async def put(self, path_or_url: str, *, json: Any = None, params: Params | None = None) -> Any:
        return await self.request("PUT", path_or_url, json=json, params=params)

    async def delete(
        self, path_or_url: str, *, json: Any = None, params: Params | None = None
    ) -> Any:
        return await self.request("DELETE", path_or_url, json=json, params=params)

    async def pages(self, path: str, params: Params | None = None) -> AsyncIterator[JSON]:
        """Every page of a collection, whole (``_results``, ``_total``…), following
        ``_pagination.next`` as it is until it is empty."""
        url: str | None = path
        while url is not None:
            page = _base.as_object(await self.request("GET", url, params=params))
            yield page
            url, params = _base.next_url(page), None

    async def paginate(self, path: str, params: Params | None = None) -> AsyncIterator[JSON]:
        """Every item of a collection, across its pages, fetched as they are consumed."""
        async for page in self.pages(path, params):
            for item in page.get("_results") or []:
                yield item

    async def download(self, url: str) -> bytes:
        """The bytes behind an attachment's ``url`` (or any path), whatever their type."""
        response = await self._send(
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
            assert isinstance(response, httpx.Response)  # only successes come lighter
            raise error_for(response)
        return response.content

    async def aclose(self) -> None:
        for http in self._pool:
            await http.aclose()

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def _send(
        self,
        method: str,
        url: str | httpx.URL,
        *,
        params: Pairs | None,
        json: Any,
        data: Mapping[str, Any] | None,
        files: Any,
        headers: Mapping[str, str] | None,
        retry_unsafe: bool,
    ) -> Answered:
        unsafe_ok = retry_unsafe or method in _base.IDEMPOTENT
        attempt = redirects = 0
        while True:
            await self._admit()
            try:
                self.sent[method] += 1
                fast = self._fast
                to = None if fast is None or data or files else fast.target(url, params)
                response: Answered
                if fast is not None and to is not None:
                    response = await fast.send(method, *to, json_body=json, headers=headers)
                else:
                    self._turn += 1
                    http = self._pool[self._turn % len(self._pool)]
                    response = await http.request(
                        method,
                        url,
                        params=None if params is None else httpx.QueryParams(tuple(params)),
                        json=json,
                        data=data,
                        files=files,
                        headers=headers,
                    )
            except httpx.TransportError as exc:
                self._pacer.failed()
                self._notify()
                wait = self._retries.after_error(exc, attempt=attempt, unsafe_ok=unsafe_ok)
                if wait is None:
                    raise TransportError(f"{method} {url}: {exc!r}") from exc
                await asyncio.sleep(wait)
                attempt += 1
                continue
            except BaseException:
                # Cancelled while in flight: the request no longer holds a place.
                self._pacer.failed()
                self._notify()
                raise
            now = time.time()
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
            self._notify()
            target = (
                _base.redirect_target(response) if isinstance(response, httpx.Response) else None
            )
            if target is not None and redirects < _base.MAX_REDIRECTS:
                url, params, redirects = target, None, redirects + 1
                continue
            if wait is None:
                return response
            await asyncio.sleep(wait)
            attempt += 1

    async def _admit(self) -> None:
        """Wait until the pacer lets a request go (at most ``max_wait``), and count it."""
        deadline = time.monotonic() + self._retries.max_wait
        while True:
            wait = self._pacer.admit(time.time())
            if wait == 0.0:
                return
            left = deadline - time.monotonic()
            if left <= 0:
                self._pacer.force()
                return
            changed = self._changed
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(changed.wait(), left if wait is None else min(wait, left))

    def _notify(self) -> None:
        """Wake the tasks waiting for the pacer: what it knows has changed."""
        self._changed.set()
        self._changed = asyncio.Event()


class _AsyncCalls:
    """What the resources call: the client, typed for the async side."""

    def __init__(self, client: AsyncClient) -> None:
        self._client = client

    async def object(
        self,
        method: str,
        path: str,
        *,
        params: Params | None = None,
        json: Any = None,
        attachments: list[Attachment] | None = None,
    ) -> JSON:
        return _base.as_object(await self._call(method, path, params, json, attachments))

    async def empty(
        self,
        method: str,
        path: str,
        *,
        params: Params | None = None,
        json: Any = None,
        attachments: list[Attachment] | None = None,
    ) -> None:
        await self._call(method, path, params, json, attachments)

    def items(self, path: str, params: Params | None = None) -> _Items:
        return self._client.paginate(path, params)

    async def _call(
        self,
        method: str,
        path: str,
        params: Params | None,
        json: Any,
        attachments: list[Attachment] | None,
    ) -> Any:
        if attachments:
            files = [("attachments[]", a) for a in attachments]
            return await self._client.request(
                method, path, params=params, data=_base.form(json or {}), files=files
            )
        return await self._client.request(method, path, params=params, json=json)
