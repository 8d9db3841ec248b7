"""Attachment rows: a file's name, type and content digest, and what it is attached to."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

import sqlalchemy as sa

from porch.store import crud
from porch.store.db import Connection, Query, Reader, Row, in_list
from porch.store.tables import attachments

t = attachments

# What an attachment belongs to (the ``owner_type`` column).
COMMENT = "comment"
MESSAGE = "message"
DRAFT = "draft"
TEMPLATE = "template"


class Attachment(NamedTuple):
    """An attachment row (fields are the table's columns, in order)."""

    id: int
    company_id: int
    sha256: str
    size: int
    content_type: str
    filename: str
    is_inline: bool
    cid: str | None
    owner_type: str
    owner_id: int
    created_at: int

    @classmethod
    def from_row(cls, r: Row) -> Attachment:
        return cls(*r)  # type: ignore[arg-type]  # a row is a sequence of the columns


assert list(Attachment._fields) == [c.name for c in t.c], "Attachment mirrors its table"

_cid = t.c.company_id == sa.bindparam("company_id")
_BY_KEY = Query(sa.select(t).where(_cid, t.c.id == sa.bindparam("key")))
# In upload order: Front lists a comment's files as they were attached.
_OF_OWNERS = Query(
    sa.select(t)
    .where(_cid, t.c.owner_type == sa.bindparam("owner_type"), in_list(t.c.owner_id, "keys"))
    .order_by(t.c.owner_id, t.c.id)
)


async def get(conn: Reader, *, company_id: int, key: int) -> Attachment | None:
    row = await conn.fetch_one(_BY_KEY, company_id=company_id, key=key)
    return Attachment.from_row(row) if row else None


async def of_owners(
    conn: Reader, *, company_id: int, owner_type: str, keys: list[int]
) -> dict[int, list[Attachment]]:
    """The attachments of each owner, in upload order (owners without any are absent)."""
    out: dict[int, list[Attachment]] = {}
    if not keys:
        return out
    rows = await conn.fetch_all(_OF_OWNERS, company_id=company_id, owner_type=owner_type, keys=keys)
    for r in rows:
        a = Attachment.from_row(r)
        out.setdefault(a.owner_id, []).append(a)
    return out


@dataclass(frozen=True, slots=True)
class StoredFile:
    """An uploaded file whose bytes are in the blob store under ``sha256``."""

    filename: str
    content_type: str
    size: int
    sha256: str
    # Part of an HTML body, referenced there as cid:<cid> (inline images of email).
    is_inline: bool = False
    cid: str | None = None


async def insert(
    tx: Connection,
    *,
    company_id: int,
    owner_type: str,
    owner_id: int,
    files: Sequence[StoredFile],
    now: int,
) -> None:
    """Write one attachment row per file for its owner, inside the owner's transaction."""
    for f in files:
        await crud.insert(
            tx,
            t,
            company_id=company_id,
            sha256=f.sha256,
            size=f.size,
            content_type=f.content_type,
            filename=f.filename,
            is_inline=f.is_inline,
            cid=f.cid,
            owner_type=owner_type,
            owner_id=owner_id,
            created_at=now,
        )


_DROP_OF_OWNER = Query(
    sa.delete(t).where(
        _cid, t.c.owner_type == sa.bindparam("owner_type"), t.c.owner_id == sa.bindparam("owner_id")
    )
)


async def drop_of_owner(tx: Connection, *, company_id: int, owner_type: str, owner_id: int) -> None:
    """Delete the attachment rows of one owner (their blobs stay: other rows may share them)."""
    await tx.execute(
        _DROP_OF_OWNER, company_id=company_id, owner_type=owner_type, owner_id=owner_id
    )
