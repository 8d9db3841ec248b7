"""The text of a message: the plain text of its body, its blurb, and the check of its body."""

from __future__ import annotations

import html
from html.parser import HTMLParser

from porch.domain.errors import BadRequest

BLURB_LENGTH = 150


class _Text(HTMLParser):
    """The text of an HTML body: tags dropped, entities decoded, scripts and styles skipped."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style"):
            self._skip += 1
        elif tag in ("br", "p", "div", "li", "tr"):
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style") and self._skip:
            self._skip -= 1

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


def plain_text(body: str, body_format: str) -> str:
    """The plain text of a body received as ``html`` or ``markdown`` (kept as written)."""
    if body_format != "html":
        return body
    parser = _Text()
    parser.feed(body)
    parser.close()
    return html.unescape("".join(parser.parts)).strip()


def blurb(text: str) -> str:
    """The start of the text on one line, as message lists show it."""
    return " ".join(text.split())[:BLURB_LENGTH]


def check_body(body: str) -> None:
    if not body.strip():
        raise BadRequest("A message needs a body")
