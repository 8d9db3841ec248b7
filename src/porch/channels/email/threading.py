"""Which conversation an email belongs to: the pure half of the decision.

The whole decision table is in ``docs/email-threading.md``; ``porch.domain.email_in`` applies it
with the database. This module holds what needs none: the order in which the Message-IDs an
email names are tried, and what a subject means once its reply and forward prefixes are gone.
"""

from __future__ import annotations

import re

from porch.channels.email.mime import ParsedEmail

# Reply prefixes in the languages mail clients write them in (Re, Aw, Sv, Vs, Antw, Odp, Ref,
# Rif, Res, 回复 …), optionally numbered (RE[2]:, Re^3:) or bracketed, and forward prefixes
# (Fwd, Fw, Wg, Tr, Rv, Enc, Doorst, 转发 …). Matched case-insensitively, repeatedly.
_REPLY = r"re|aw|sv|vs|antw|antwort|odp|ref|rif|res|ynt|回复|回覆|答复"
_FORWARD = r"fwd?|wg|tr|rv|enc|doorst|vl|转发|轉寄"
_PREFIX = re.compile(
    rf"^\s*(?:\[[^\]]{{0,40}}\]\s*)?(?P<kind>{_REPLY}|{_FORWARD})\s*(?:\[\d+\]|\^\d+|\(\d+\))?\s*[:：]\s*",
    re.IGNORECASE,
)
_REPLY_WORD = re.compile(rf"^(?:{_REPLY})$", re.IGNORECASE)
_SPACE = re.compile(r"\s+")


def strip_prefixes(subject: str) -> tuple[str, bool, bool]:
    """The subject without its reply/forward prefixes (and list tags before them), and whether
    it had a reply prefix and whether a forward prefix."""
    replied = forwarded = False
    rest = subject
    for _ in range(20):  # bounded: "Re: Re: Fwd: …"
        found = _PREFIX.match(rest)
        if found is None:
            break
        if _REPLY_WORD.match(found.group("kind")):
            replied = True
        else:
            forwarded = True
        rest = rest[found.end() :]
    return rest, replied, forwarded


def normalized_subject(subject: str) -> str:
    """What two subjects of one thread have in common: prefixes gone, spaces collapsed, case
    folded."""
    rest, _, _ = strip_prefixes(subject)
    return _SPACE.sub(" ", rest).strip().casefold()


def named_ids(parsed: ParsedEmail) -> list[str]:
    """The Message-IDs the email names, most telling first: In-Reply-To, then References from
    the last (the message answered) to the first (the thread's root). No duplicates."""
    out: list[str] = []
    for rfc_id in [*parsed.in_reply_to, *reversed(parsed.references)]:
        rfc_id = rfc_id.strip()
        if rfc_id and rfc_id not in out:
            out.append(rfc_id)
    return out[:100]
