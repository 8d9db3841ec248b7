"""Building blocks for request-body models.

Request bodies are strict: a number where a string belongs is a 400, not a coercion. Unknown
fields are ignored, as Front ignores them. Text may not carry NUL or other control characters
(PostgreSQL cannot store NUL, and no name needs a control character); bodies of messages and
signatures may carry tabs and newlines.
"""

from __future__ import annotations

from typing import Annotated, Any

import pydantic
from pydantic import AfterValidator, ConfigDict, Field

_CONTROL = {chr(c) for c in range(32)} | {"\x7f"}
_CONTROL_IN_TEXT = _CONTROL - {"\t", "\n", "\r"}


def _no_control(value: str) -> str:
    if any(ch in _CONTROL for ch in value):
        raise ValueError("must not contain control characters")
    return value


def _no_control_in_text(value: str) -> str:
    if any(ch in _CONTROL_IN_TEXT for ch in value):
        raise ValueError("must not contain control characters")
    return value


Name = Annotated[str, AfterValidator(_no_control), Field(min_length=1, max_length=255)]
ShortText = Annotated[str, AfterValidator(_no_control), Field(max_length=1000)]
Text = Annotated[str, AfterValidator(_no_control_in_text), Field(max_length=500_000)]
Ref = Annotated[str, AfterValidator(_no_control), Field(min_length=1, max_length=512)]
Refs = Annotated[list[Ref], Field(max_length=1000)]
CustomFields = dict[str, Any]


class Body(pydantic.BaseModel):
    """Base of every request body model."""

    model_config = ConfigDict(strict=True, extra="ignore", frozen=True)

    def sent(self) -> dict[str, Any]:
        """The fields the client actually sent (for PATCH semantics)."""
        return {k: getattr(self, k) for k in self.model_fields_set}
