"""Attachments: files attached to comments, messages, drafts and message templates.

A file's bytes go to the blob store, named by their sha256, before the transaction that writes
its owner: the bytes are durable when the API answers, and content uploaded twice is kept once.
A transaction that fails after the upload leaves an unreferenced blob, never a row without its
bytes. An attachment is visible exactly when its owner is (a message's when the message is, a
draft's when the draft is, to the tokens that see that draft); downloads need
``attachments:read``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from porch import ids
from porch.domain import comments, messages
from porch.domain.errors import BadRequest, NotFound, not_found
from porch.domain.message_templates.access import access_template
from porch.domain.principal import Principal
from porch.storage import BlobStore
from porch.store import attachments as store
from porch.store.attachments import Attachment, StoredFile
from porch.store.db import Reader

# Front's limit for one attached file.
MAX_FILE_BYTES = 25 * 1024 * 1024
MAX_FILENAME_CHARS = 255
DEFAULT_CONTENT_TYPE = "application/octet-stream"


@dataclass(frozen=True, slots=True)
class NewFile:
    """A file as uploaded: its name, declared type and bytes."""

    filename: str
    content_type: str
    data: bytes


def _clean(text: str) -> bool:
    return all(ch.isprintable() for ch in text)


def check_files(files: Sequence[NewFile]) -> None:
    """Refuse files with an empty, overlong or control-character name or content type."""
    for f in files:
        if not f.filename or len(f.filename) > MAX_FILENAME_CHARS or not _clean(f.filename):
            raise BadRequest(f"Invalid attachment filename {f.filename!r}")
        if len(f.content_type) > 255 or not _clean(f.content_type) or "/" not in f.content_type:
            raise BadRequest(f"Invalid attachment content type {f.content_type!r}")


async def store_files(blobs: BlobStore, files: Sequence[NewFile]) -> list[StoredFile]:
    """Put each file's bytes in the blob store (once per content) and describe them."""
    check_files(files)
    out = []
    for f in files:
        digest = await blobs.put(f.data)
        out.append(StoredFile(f.filename, f.content_type, len(f.data), digest))
    return out


async def access_attachment(
    conn: Reader,
    *,
    principal: Principal,
    ref: str,
    owner_type: str | None = None,
    owner_id: int | None = None,
) -> Attachment:
    """The attachment ``ref`` (``fil_...``) names if the token sees its owner (and, when
    ``owner_type``/``owner_id`` are given, if it belongs to that owner); NotFound otherwise."""
    key = ids.decode(ids.FILE, ref)
    found = None
    if key is not None:
        found = await store.get(conn, company_id=principal.company_id, key=key)
    if found is not None and (owner_type, owner_id) not in (
        (None, None),
        (found.owner_type, found.owner_id),
    ):
        found = None
    if found is not None and not await _sees_owner(conn, principal=principal, found=found):
        found = None
    if found is None:
        raise not_found("attachment", ref)
    return found


async def _sees_owner(conn: Reader, *, principal: Principal, found: Attachment) -> bool:
    """Whether the token sees what ``found`` is attached to."""
    try:
        if found.owner_type == store.COMMENT:
            # Raises NotFound when the comment's conversation is out of the token's sight.
            await comments.access_comment(
                conn, principal=principal, ref=ids.encode(ids.COMMENT, found.owner_id)
            )
            return True
        if found.owner_type in (store.MESSAGE, store.DRAFT):
            # A private draft is checked against the token there too.
            msg = await messages.access_message(
                conn, principal=principal, ref=ids.encode(ids.MESSAGE, found.owner_id)
            )
            return messages.owner_type(msg) == found.owner_type
        if found.owner_type == store.TEMPLATE:
            # Private templates only to private tokens, as the template itself.
            await access_template(
                conn, principal=principal, ref=ids.encode(ids.MESSAGE_TEMPLATE, found.owner_id)
            )
            return True
    except NotFound:
        return False
    return False


async def read(blobs: BlobStore, *, attachment: Attachment) -> bytes:
    """The bytes of an attachment."""
    return await blobs.open(attachment.sha256)
