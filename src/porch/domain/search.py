"""Conversation search: Front's query language, parsed into a typed query, resolved, run.

A query is words, "quoted phrases" and filters ``name:value`` (a value may be quoted) separated
by whitespace. Words and phrases must all occur in the subject, a message or a comment
(case-insensitive, whole words). The values of a repeated filter are alternatives; different
filters all apply. ``is:`` values fall in families that exclude each other (open, archived,
snoozed, trashed / assigned, unassigned / waiting, resolved / unreplied): values of one family
are alternatives, families all apply.

Anything the parser cannot read exactly is a 400 rather than a guess: an unknown operator
(``re:hello``; quote it to search the text), an unbalanced quote, a malformed id or date,
negation (``-tag:``), a control character, an empty query. Well-formed ids that name nothing
the token can see are a 404, as everywhere else in the API.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

import orjson

from porch import ids
from porch.domain.conversations import ConversationView, views
from porch.domain.errors import BadRequest, not_found
from porch.domain.inboxes import access_inbox
from porch.domain.links import access_link
from porch.domain.principal import Principal
from porch.domain.tags import access_tag
from porch.domain.teammates import access_teammate
from porch.store import contacts as contacts_store
from porch.store import custom_fields as custom_fields_store
from porch.store.db import Reader
from porch.store.search import query as store
from porch.store.search.criteria import HANDLE_ROLES, Criteria

MAX_QUERY_CHARS = 1000
MAX_PARTS = 50
DAY_SECONDS = 86_400
# Unix seconds up to year 5000: anything longer is not a date.
_SECONDS = re.compile(r"\d{1,11}")
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}.*")
_OPERATOR = re.compile(r"(-?)([A-Za-z_]+):(.*)", re.DOTALL)
_WORDY = re.compile(r"\w")

IS_FAMILIES = {
    "open": "state",
    "archived": "state",
    "snoozed": "state",
    "trashed": "state",
    "assigned": "assignment",
    "unassigned": "assignment",
    "waiting": "ticket",
    "resolved": "ticket",
    "unreplied": "unreplied",
}
TEAMMATE_FILTERS = ("assignee", "participant", "author", "mention", "commenter")
ID_FILTERS = {"inbox": ids.INBOX, "tag": ids.TAG, "contact": ids.CONTACT, "link": ids.LINK}
HANDLE_FILTERS = tuple(HANDLE_ROLES)
DATE_FILTERS = ("before", "after", "during")
OPERATORS = frozenset(
    ["is", "custom_field", *TEAMMATE_FILTERS, *ID_FILTERS, *HANDLE_FILTERS, *DATE_FILTERS]
)


@dataclass(frozen=True, slots=True)
class Filter:
    """``name:value`` as written (name lower-cased, quotes removed)."""

    name: str
    value: str


@dataclass(frozen=True, slots=True)
class ParsedQuery:
    """A query read but not yet resolved: the text to find and the filters, in order."""

    text: tuple[str, ...]
    filters: tuple[Filter, ...]


def _quoted(q: str, i: int) -> tuple[str, int]:
    """The quoted string opening at ``q[i]`` and the index after its closing quote."""
    end = q.find('"', i + 1)
    if end < 0:
        raise BadRequest("Unbalanced quote in the search query")
    after = end + 1
    if after < len(q) and not q[after].isspace():
        raise BadRequest("A closing quote must be followed by a space or the end of the query")
    return q[i + 1 : end], after


def check_query(raw: str) -> ParsedQuery:
    """Parse ``raw`` (the URL-decoded path segment); BadRequest if it cannot be read exactly."""
    if len(raw) > MAX_QUERY_CHARS:
        raise BadRequest(f"A search query has at most {MAX_QUERY_CHARS} characters")
    if any(unicodedata.category(ch) == "Cc" and ch not in " \t" for ch in raw):
        raise BadRequest("The search query contains a control character")
    text: list[str] = []
    filters: list[Filter] = []
    i, n = 0, len(raw)
    while i < n:
        if raw[i].isspace():
            i += 1
            continue
        if raw[i] == '"':
            phrase, i = _quoted(raw, i)
            if phrase.strip():
                text.append(phrase)
            continue
        j = i
        while j < n and not raw[j].isspace() and raw[j] != '"':
            j += 1
        word = raw[i:j]
        m = _OPERATOR.fullmatch(word)
        if j < n and raw[j] == '"':
            if m is None or m.group(3):
                raise BadRequest(f"Unexpected quote after {word!r} in the search query")
            value, i = _quoted(raw, j)
        else:
            value, i = (m.group(3) if m else ""), j
        if m is None:
            text.append(word)
            continue
        negated, name = m.group(1), m.group(2).lower()
        if name not in OPERATORS:
            raise BadRequest(
                f"Unknown search operator {name!r}", details=[f"operators: {sorted(OPERATORS)}"]
            )
        if negated:
            raise BadRequest("Negated filters are not supported")
        if not value.strip():
            raise BadRequest(f"The filter {name}: needs a value")
        filters.append(Filter(name, value.strip()))
    # Words without a letter or digit ("&", "--") match nothing in any index: ignored.
    text = [w for w in text if _WORDY.search(w)]
    if not text and not filters:
        raise BadRequest("The search query is empty")
    if len(text) + len(filters) > MAX_PARTS:
        raise BadRequest(f"A search query has at most {MAX_PARTS} words and filters")
    return ParsedQuery(tuple(text), tuple(filters))


def _seconds(name: str, value: str) -> int:
    if _ISO_DATE.fullmatch(value):
        raise BadRequest(f"{name}: takes unix seconds, not a calendar date ({value!r})")
    if not _SECONDS.fullmatch(value):
        raise BadRequest(f"{name}: takes unix seconds, got {value!r}")
    return int(value)


def _json_texts(value: str) -> tuple[str, ...]:
    """The JSON texts a stored custom field value equal to ``value`` may have."""
    out = [orjson.dumps(value).decode()]
    if re.fullmatch(r"-?\d+(\.\d+)?", value):
        out.append(value)
    if value.lower() in ("true", "false"):
        out.append(value.lower())
    return tuple(out)


async def _teammate_key(conn: Reader, principal: Principal, name: str, ref: str) -> int:
    if not (ref.startswith("alt:") or ids.decode(ids.TEAMMATE, ref) is not None):
        raise BadRequest(f"{name}: takes a teammate id (tea_...) or alias, got {ref!r}")
    return (await access_teammate(conn, principal=principal, ref=ref)).id


async def _id_key(conn: Reader, principal: Principal, name: str, ref: str) -> int:
    prefix = ID_FILTERS[name]
    key = ids.decode(prefix, ref)
    if key is None:
        raise BadRequest(f"{name}: takes an id starting with {prefix}_, got {ref!r}")
    if name == "inbox":
        return (await access_inbox(conn, principal=principal, ref=ref)).id
    if name == "tag":
        return (await access_tag(conn, principal=principal, ref=ref)).id
    if name == "link":
        return (await access_link(conn, principal=principal, ref=ref)).id
    if await contacts_store.get(conn, company_id=principal.company_id, key=key) is None:
        raise not_found("contact", ref)
    return key


async def check_search(conn: Reader, *, principal: Principal, query: ParsedQuery) -> Criteria:
    """Resolve the ids, handles, dates and field names of ``query`` into search criteria."""
    is_values: dict[str, set[str]] = {}
    keys: dict[str, list[int]] = {}
    handles: dict[str, list[str]] = {}
    fields: list[tuple[str, tuple[str, ...]]] = []
    before: list[int] = []
    after: list[int] = []
    during: list[tuple[int, int]] = []
    field_names: set[str] | None = None
    for f in query.filters:
        if f.name == "is":
            value = f.value.lower()
            if value not in IS_FAMILIES:
                raise BadRequest(
                    f"is: takes one of {', '.join(sorted(IS_FAMILIES))}", details=[f.value]
                )
            is_values.setdefault(IS_FAMILIES[value], set()).add(value)
        elif f.name in TEAMMATE_FILTERS:
            key = await _teammate_key(conn, principal, f.name, f.value)
            keys.setdefault(f.name, []).append(key)
        elif f.name in ID_FILTERS:
            keys.setdefault(f.name, []).append(await _id_key(conn, principal, f.name, f.value))
        elif f.name in HANDLE_FILTERS:
            # Email handles are stored lower-cased; other handles as given.
            handles.setdefault(f.name, []).extend({f.value, f.value.lower()})
        elif f.name == "custom_field":
            name, sep, value = f.value.partition("=")
            name = name.strip()
            if not sep or not name or '"' in name:
                raise BadRequest('custom_field: takes "<name>=<value>"', details=[f.value])
            if field_names is None:
                defined = await custom_fields_store.of_type(
                    conn, company_id=principal.company_id, object_type="conversation"
                )
                field_names = {d.name for d in defined}
            if name not in field_names:
                raise BadRequest(f"Unknown conversation custom field {name!r}")
            fields.append((name, _json_texts(value.strip())))
        else:
            seconds = _seconds(f.name, f.value)
            if f.name == "before":
                before.append(seconds * 1000)
            elif f.name == "after":
                after.append(seconds * 1000)
            else:
                start = seconds - seconds % DAY_SECONDS
                during.append((start * 1000, (start + DAY_SECONDS) * 1000))
    assignment = is_values.get("assignment", set())
    return Criteria(
        text=query.text,
        states=frozenset(is_values.get("state", set())),
        assigned=None if len(assignment) != 1 else "assigned" in assignment,
        unreplied="unreplied" in is_values,
        ticket_categories=tuple(sorted(is_values.get("ticket", set()))),
        inboxes=tuple(keys.get("inbox", [])),
        tags=tuple(keys.get("tag", [])),
        assignees=tuple(keys.get("assignee", [])),
        participants=tuple(keys.get("participant", [])),
        authors=tuple(keys.get("author", [])),
        mentions=tuple(keys.get("mention", [])),
        commenters=tuple(keys.get("commenter", [])),
        contacts=tuple(keys.get("contact", [])),
        links=tuple(keys.get("link", [])),
        custom_fields=tuple(fields),
        handles=tuple((k, tuple(sorted(v))) for k, v in sorted(handles.items())),
        before=max(before) if before else None,
        after=min(after) if after else None,
        during=tuple(during),
    )


async def search_conversations(
    conn: Reader,
    *,
    principal: Principal,
    criteria: Criteria,
    after: tuple[int, int] | None,
    limit: int,
) -> tuple[list[ConversationView], tuple[int, int] | None, int]:
    """A page of the visible conversations matching ``criteria``, latest activity first; the
    key to continue after (if there may be more) and the number of matches in all. Merged
    conversations never match, trashed ones only with ``is:trashed``, spam never."""
    rows, total = await store.search(
        conn,
        company_id=principal.company_id,
        vis=principal.visibility(),
        criteria=criteria,
        after=after,
        limit=limit + 1,
    )
    more = len(rows) > limit
    rows = rows[:limit]
    nxt = (rows[-1].activity_at, rows[-1].id) if more and rows else None
    return await views(conn, principal=principal, convs=rows), nxt, total
