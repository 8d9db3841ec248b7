"""Blobs as files in the data dir: ``<root>/<aa>/<bb>/<sha256>``.

A blob is written to a temporary file beside its final place, fsynced, then renamed into place
(and the directory fsynced), so a blob is either absent or whole and durable before the API
answers; a crash leaves at most a stray temporary file. Two uploads of the same new content at
once both write a temporary file and the second rename replaces identical bytes.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import re
import tempfile
from pathlib import Path

_DIGEST = re.compile(r"[0-9a-f]{64}")


class LocalBlobStore:
    """A BlobStore on the local file system."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def path_of(self, digest: str) -> Path:
        """Where the blob ``digest`` lives (ValueError for anything but a sha256 hex digest)."""
        if _DIGEST.fullmatch(digest) is None:
            raise ValueError(f"not a sha256 hex digest: {digest!r}")
        return self.root / digest[:2] / digest[2:4] / digest

    async def put(self, data: bytes) -> str:
        """Store ``data`` once and return its sha256 hex digest."""
        digest = hashlib.sha256(data).hexdigest()
        await asyncio.to_thread(self._write, self.path_of(digest), data)
        return digest

    async def open(self, digest: str) -> bytes:
        return await asyncio.to_thread(self.path_of(digest).read_bytes)

    async def exists(self, digest: str) -> bool:
        return await asyncio.to_thread(self.path_of(digest).is_file)

    @staticmethod
    def _write(path: Path, data: bytes) -> None:
        if path.is_file():
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        # The rename is durable only once the directory entry is.
        dir_fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
