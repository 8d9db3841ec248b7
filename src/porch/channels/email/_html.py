"""HTML bodies of email: sanitised for display (nh3) and turned into plain text (html.parser)."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import nh3

_TAGS = {
    "a", "b", "blockquote", "br", "center", "code", "div", "em", "font", "h1", "h2", "h3", "h4",
    "h5", "h6", "hr", "i", "img", "li", "ol", "p", "pre", "s", "small", "span", "strike",
    "strong", "sub", "sup", "table", "tbody", "td", "tfoot", "th", "thead", "tr", "u", "ul",
    "caption", "col", "colgroup", "dd", "dl", "dt", "q", "abbr", "big", "tt", "wbr",
}  # fmt: skip
# Tags whose content goes too: code, CSS, the document's title, Outlook's <xml> blocks, frames.
_DROPPED_WITH_CONTENT = {
    "script", "style", "title", "head", "xml", "iframe", "frame", "frameset", "object", "embed",
    "applet", "noscript", "template", "svg", "math", "select", "textarea", "audio", "video",
}  # fmt: skip
_CELL = {"align", "valign", "width", "height", "colspan", "rowspan", "bgcolor", "nowrap"}
_ATTRIBUTES = {
    "*": {"class", "dir", "lang", "title", "style"},
    "a": {"href"},
    "img": {"src", "alt", "width", "height", "border", "align"},
    "table": {"width", "height", "border", "cellpadding", "cellspacing", "align", "bgcolor"},
    "td": _CELL,
    "th": _CELL,
    "tr": {"align", "valign", "bgcolor"},
    "col": {"span", "width"},
    "colgroup": {"span", "width"},
    "font": {"color", "face", "size"},
    "p": {"align"},
    "div": {"align"},
    "h1": {"align"}, "h2": {"align"}, "h3": {"align"}, "h4": {"align"}, "h5": {"align"},
    "h6": {"align"},
    "ol": {"start", "type"},
    "li": {"value"},
}  # fmt: skip
# Inline styles keep the layout of most mail; only properties that cannot position content over
# the page or load anything are kept (values with url(), expression() and escapes are dropped).
_STYLE_PROPERTIES = {
    "color", "background-color", "font", "font-family", "font-size", "font-style", "font-weight",
    "font-variant", "text-align", "text-decoration", "text-transform", "text-indent",
    "line-height", "letter-spacing", "word-spacing", "white-space", "vertical-align",
    "direction", "width", "min-width", "max-width", "height", "min-height", "max-height",
    "margin", "margin-top", "margin-right", "margin-bottom", "margin-left", "padding",
    "padding-top", "padding-right", "padding-bottom", "padding-left", "border", "border-top",
    "border-right", "border-bottom", "border-left", "border-color", "border-style",
    "border-width", "border-collapse", "border-spacing", "border-radius", "display",
    "list-style-type", "word-wrap", "word-break", "overflow-wrap", "table-layout",
}  # fmt: skip
_UNSAFE_STYLE = ("url(", "expression", "image-set", "\\", "@import", "javascript:", "behavior")
_SAFE_DATA_IMAGE = re.compile(r"data:image/(?:png|gif|jpeg|jpg|webp|bmp);", re.IGNORECASE)


def _filter_attribute(tag: str, name: str, value: str) -> str | None:
    if name == "style":
        lowered = value.lower()
        return None if any(bad in lowered for bad in _UNSAFE_STYLE) else value
    if name in ("href", "src") and value.lstrip().lower().startswith("data:"):
        # data: URLs only for images shown by <img>: never as links (they can carry HTML).
        return value if tag == "img" and _SAFE_DATA_IMAGE.match(value.lstrip()) else None
    return value


_CLEANER = nh3.Cleaner(
    tags=_TAGS,
    clean_content_tags=_DROPPED_WITH_CONTENT,
    attributes=_ATTRIBUTES,
    attribute_filter=_filter_attribute,
    strip_comments=True,
    link_rel="noopener noreferrer",
    url_schemes={"http", "https", "mailto", "cid", "data", "tel"},
    # A relative URL would point into Porch itself (an <img> loading an API path).
    url_relative="deny",
    filter_style_properties=_STYLE_PROPERTIES,
)


def sanitize(html: str) -> str:
    return _CLEANER.clean(html)


# Blocks that stand apart by a blank line, and blocks that only start on a new line.
_PARAGRAPH = {
    "p",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "blockquote",
    "pre",
    "table",
    "ul",
    "ol",
    "dl",
}
_LINE = {
    "div", "li", "tr", "dd", "dt", "address", "article", "aside", "center", "fieldset",
    "figcaption", "figure", "footer", "form", "header", "hr", "main", "nav", "section", "caption",
}  # fmt: skip
_SKIPPED = {"script", "style", "title", "head", "xml", "template", "noscript", "svg", "iframe"}
_SPACES = re.compile(r"[ \t\r\n\f\v]+")
_BLANK_LINES = re.compile(r"\n{3,}")


class _TextExtractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.chunks: list[str] = []
        self.skipping = 0
        self.in_pre = 0
        # Line breaks at the end of the text so far; -1 before any text.
        self.newlines = -1

    def _break(self, count: int) -> None:
        if 0 <= self.newlines < count:
            self.chunks.append("\n" * (count - self.newlines))
            self.newlines = count

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIPPED:
            self.skipping += 1
        elif tag == "br":
            self.chunks.append("\n")
            self.newlines = max(self.newlines, 0) + 1
        elif tag in ("td", "th"):
            if self.newlines == 0:
                self.chunks.append(" ")
        elif tag in _PARAGRAPH:
            self._break(2)
            self.in_pre += tag == "pre"
        elif tag in _LINE:
            self._break(1)
            if tag == "li":
                self.chunks.append("- ")
                self.newlines = 0

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag not in ("br", "td", "th"):
            self.handle_endtag(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIPPED:
            self.skipping = max(0, self.skipping - 1)
        elif tag in _PARAGRAPH:
            self._break(2)
            if tag == "pre":
                self.in_pre = max(0, self.in_pre - 1)
        elif tag in _LINE:
            self._break(1)

    def handle_data(self, data: str) -> None:
        if self.skipping:
            return
        if not self.in_pre:
            data = _SPACES.sub(" ", data)
            if self.newlines != 0:
                data = data.lstrip(" ")
        if not data:
            return
        self.chunks.append(data)
        stripped = data.rstrip("\n")
        self.newlines = len(data) - len(stripped) if stripped else max(self.newlines, 0) + len(data)


# html.parser handles a tag in tens of microseconds on a slow machine: nh3 first drops the tags
# that do not break lines (most of mail's HTML: spans, links, fonts, images), attributes,
# comments, styles and scripts, which makes the text of a newsletter 2-3 times cheaper.
_STRUCTURE = nh3.Cleaner(
    tags=_PARAGRAPH | _LINE | {"br", "td", "th"},
    clean_content_tags=_DROPPED_WITH_CONTENT,
    attributes={},
    link_rel=None,
)


def to_text(html: str) -> str:
    """The text a reader sees in ``html``: tags dropped, entities decoded, blocks on their own
    lines."""
    extractor = _TextExtractor()
    try:
        extractor.feed(_STRUCTURE.clean(html))
        extractor.close()
    except Exception:  # html.parser has raised on odd markup in the past; keep what was read
        extractor.chunks.append("\n")
    lines = (
        line.rstrip(" ") for line in "".join(extractor.chunks).replace("\xa0", " ").split("\n")
    )
    return _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip("\n")
