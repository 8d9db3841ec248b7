"""The Python SDK for Porch's API, which is Front's: it talks to Front as well.

```python
from porch.client import Client, errors

with Client("http://127.0.0.1:8080", token) as porch:
    for contact in porch.contacts.list(updated_after=1700000000):
        ...
    try:
        porch.tags.get("tag_missing")
    except errors.NotFound as exc:
        print(exc.status, exc.message)
```

:class:`Client` (threads) and :class:`AsyncClient` (asyncio) wrap httpx with Front's habits:
``_pagination.next`` followed as it is, the ``_error`` envelope raised as typed exceptions
(:mod:`porch.client.errors`), calls paced by the ``x-ratelimit-*`` headers and 429s retried
after ``retry-after``. Typed resources cover what Porch serves; ``request()`` calls anything.
"""

from porch.client import errors
from porch.client._async import AsyncClient
from porch.client._pacing import RateLimit
from porch.client._sync import Client
from porch.client.errors import (
    ApiError,
    BadRequest,
    Conflict,
    Forbidden,
    NotFound,
    PayloadTooLarge,
    RateLimited,
    ServerError,
    TransportError,
    Unauthorized,
)
from porch.client.resources import UNSET, Attachment, Handle

__all__ = [
    "UNSET",
    "ApiError",
    "AsyncClient",
    "Attachment",
    "BadRequest",
    "Client",
    "Conflict",
    "Forbidden",
    "Handle",
    "NotFound",
    "PayloadTooLarge",
    "RateLimit",
    "RateLimited",
    "ServerError",
    "TransportError",
    "Unauthorized",
    "errors",
]
