"""Where attachment contents live: a content-addressed blob store.

A blob is named by the sha256 (lower-case hex) of its bytes, so the same file attached a
thousand times is kept once. Rows in the ``attachments`` table point at blobs by digest; a blob
store knows nothing of companies or owners.
"""

from __future__ import annotations

from typing import Protocol


class BlobStore(Protocol):
    """A content-addressed store of immutable byte strings."""

    async def put(self, data: bytes) -> str:
        """Store ``data`` durably and return its sha256 hex digest; when a blob of that digest
        is already stored, write nothing."""
        ...

    async def open(self, digest: str) -> bytes:
        """The bytes stored under ``digest``; FileNotFoundError if there are none."""
        ...

    async def exists(self, digest: str) -> bool:
        """Whether a blob of ``digest`` is stored."""
        ...
