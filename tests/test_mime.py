"""The MIME parser against a corpus of real-world shapes of mail (tests/email/mime, with what each
must give in expected.json), and fuzzed: arbitrary bytes and damaged corpus messages never make
it raise, and a message that lost its structure says so in its notes."""

from __future__ import annotations

import json
import re
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from porch.channels.email import _headers
from porch.channels.email.mime import (
    Address,
    Attachment,
    DeliveryReport,
    ParsedEmail,
    parse,
    sanitize_html,
)

CORPUS = Path(__file__).parent / "email" / "mime"
EXPECTED: dict[str, dict[str, Any]] = json.loads((CORPUS / "expected.json").read_text("utf-8"))
MESSAGES = {path.name: path.read_bytes() for path in sorted(CORPUS.glob("*.eml"))}


def test_the_corpus_is_complete() -> None:
    assert len(MESSAGES) >= 60
    assert set(MESSAGES) == set(EXPECTED)


def _check_attachment(found: Attachment, expected: dict[str, Any]) -> None:
    assert found.filename == expected["filename"]
    assert found.content_type == expected["content_type"]
    if "size" in expected:
        assert len(found.data) == expected["size"]
    if "content_id" in expected:
        assert found.content_id == expected["content_id"]
    if "inline" in expected:
        assert found.inline is expected["inline"]
    for fragment in expected.get("data_contains", ()):
        assert fragment.encode() in found.data


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_corpus_message(name: str) -> None:
    """Each file meets what expected.json says matters for it: exact subject/text/message_id,
    from/from_name/to/to_names/cc/cc_count/reply_to/sender, date (ISO), in_reply_to/references,
    text_startswith/text_contains/text_not_contains, html (present)/html_contains/
    html_not_contains, attachments (filename, content_type, size, content_id, inline,
    data_contains)/attachment_count/attachment_filenames, auto_submitted, is_list, report,
    headers (a subset), notes (any)/notes_contain."""
    parsed = parse(MESSAGES[name])
    _assert_well_formed(parsed)
    expected = EXPECTED[name]
    for key, value in expected.items():
        if key in ("subject", "text", "message_id"):
            assert getattr(parsed, key) == value, key
        elif key == "subject_startswith":
            assert parsed.subject.startswith(value)
        elif key == "subject_contains":
            assert all(fragment in parsed.subject for fragment in value), parsed.subject
        elif key == "from":
            assert (parsed.from_.address if parsed.from_ else None) == value
        elif key == "from_name":
            assert parsed.from_ is not None and parsed.from_.name == value
        elif key == "sender":
            assert parsed.sender is not None and parsed.sender.address == value
        elif key in ("to", "cc", "reply_to"):
            assert [address.address for address in getattr(parsed, key)] == value, key
        elif key == "to_names":
            assert [address.name for address in parsed.to] == value
        elif key == "cc_count":
            assert len(parsed.cc) == value
        elif key == "date":
            assert (parsed.date.isoformat() if parsed.date else None) == value
        elif key in ("in_reply_to", "references"):
            assert list(getattr(parsed, key)) == value, key
        elif key == "text_startswith":
            assert parsed.text.startswith(value), parsed.text[:200]
        elif key == "text_contains":
            for fragment in value:
                assert fragment in parsed.text, (fragment, parsed.text[:500])
        elif key == "text_not_contains":
            for fragment in value:
                assert fragment not in parsed.text, fragment
        elif key == "html":
            assert (parsed.html is not None) is value
        elif key == "html_contains":
            assert parsed.html is not None
            for fragment in value:
                assert fragment in parsed.html, (fragment, parsed.html)
        elif key == "html_not_contains":
            assert parsed.html is not None
            for fragment in value:
                assert fragment.lower() not in parsed.html.lower(), (fragment, parsed.html)
        elif key == "attachments":
            assert len(parsed.attachments) == len(value), parsed.attachments
            for found, wanted in zip(parsed.attachments, value, strict=True):
                _check_attachment(found, wanted)
        elif key == "attachment_count":
            assert len(parsed.attachments) == value
        elif key == "attachment_filenames":
            assert [found.filename for found in parsed.attachments] == value
        elif key == "attachment_filenames_contain":
            assert set(value) <= {found.filename for found in parsed.attachments}
        elif key in ("auto_submitted", "is_list"):
            assert getattr(parsed, key) is value, key
        elif key == "report":
            if value is None:
                assert parsed.report is None
            else:
                assert parsed.report == DeliveryReport(
                    original_message_id=value["original_message_id"],
                    recipients=tuple(value["recipients"]),
                    status=value["status"],
                    permanent=value["permanent"],
                )
        elif key == "headers":
            assert {name: parsed.headers.get(name) for name in value} == value
        elif key == "notes":
            assert bool(parsed.notes) is value, parsed.notes
        elif key == "notes_contain":
            for fragment in value:
                assert any(fragment.lower() in note.lower() for note in parsed.notes), (
                    fragment,
                    parsed.notes,
                )
        else:  # pragma: no cover - a typo in expected.json must not pass silently
            raise AssertionError(f"unknown expectation {key!r}")


def _assert_well_formed(parsed: ParsedEmail) -> None:
    """The types the contract promises, and text that any UTF-8 consumer (JSON, PostgreSQL)
    takes: no lone surrogates, no NUL characters."""
    assert isinstance(parsed, ParsedEmail)
    strings = [
        parsed.subject,
        parsed.text,
        *parsed.notes,
        *parsed.headers,
        *parsed.headers.values(),
    ]
    assert parsed.message_id is None or isinstance(parsed.message_id, str)
    if parsed.message_id is not None:
        strings.append(parsed.message_id)
    for ids in (parsed.in_reply_to, parsed.references):
        assert isinstance(ids, tuple)
        strings.extend(ids)
    if parsed.html is not None:
        strings.append(parsed.html)
    addresses = [*parsed.reply_to, *parsed.to, *parsed.cc, *parsed.bcc]
    addresses += [address for address in (parsed.from_, parsed.sender) if address is not None]
    for address in addresses:
        assert isinstance(address, Address)
        assert "@" in address.address
        strings.append(address.address)
        if address.name is not None:
            strings.append(address.name)
    for attachment in parsed.attachments:
        assert isinstance(attachment, Attachment)
        assert isinstance(attachment.data, bytes)
        assert attachment.filename and not re.search(r"[/\\\x00-\x1f\x7f]", attachment.filename)
        assert re.fullmatch(
            r"[a-z0-9][a-z0-9!#$&^_.+-]*/[a-z0-9][a-z0-9!#$&^_.+-]*", attachment.content_type
        )
        strings += [attachment.filename, attachment.content_type, attachment.content_id or ""]
    assert parsed.date is None or (isinstance(parsed.date, datetime) and parsed.date.tzinfo)
    assert isinstance(parsed.auto_submitted, bool) and isinstance(parsed.is_list, bool)
    if parsed.report is not None:
        assert isinstance(parsed.report, DeliveryReport)
        strings += [*parsed.report.recipients, parsed.report.status or ""]
    for string in strings:
        assert isinstance(string, str)
        string.encode("utf-8")  # raises on a lone surrogate
        assert "\x00" not in string
    assert isinstance(parsed.notes, tuple)


# Fuzzing ------------------------------------------------------------------------------------

FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
NAMES = sorted(MESSAGES)
MULTIPART = [name for name in NAMES if b"boundary=" in MESSAGES[name][:4000]]


@FUZZ
@given(st.binary(max_size=3000))
def test_arbitrary_bytes_never_raise(raw: bytes) -> None:
    _assert_well_formed(parse(raw))


MIME_ALPHABET = st.sampled_from(
    [b"\r\n", b"\n", b"\r", b"--", b"=?", b"?=", b"=", b":", b";", b" ", b"\t", b"\x00", b"\xff",
     b"boundary=", b"Content-Type: multipart/mixed; boundary=b\r\n", b"--b\r\n", b"--b--\r\n",
     b"charset=", b"utf-8", b"base64", b"Content-Transfer-Encoding: ", b"=?utf-8?b?",
     b"filename*0*=", b"message/rfc822", b"text/html", b"<", b">", b"@", b"A", b"\xc3"]
)  # fmt: skip


@FUZZ
@given(st.lists(MIME_ALPHABET, max_size=200).map(b"".join))
def test_mime_shaped_noise_never_raises(raw: bytes) -> None:
    _assert_well_formed(parse(raw))


@FUZZ
@given(st.sampled_from(NAMES), st.data())
def test_damaged_corpus_messages_never_raise(name: str, data: st.DataObject) -> None:
    raw = bytearray(MESSAGES[name])
    damage = data.draw(st.sampled_from(["truncate", "flip", "splice", "delete-line"]))
    if damage == "truncate":
        raw = raw[: data.draw(st.integers(0, len(raw)))]
    elif damage == "flip" and raw:
        for _ in range(data.draw(st.integers(1, 20))):
            raw[data.draw(st.integers(0, len(raw) - 1))] = data.draw(st.integers(0, 255))
    elif damage == "splice":
        other = MESSAGES[data.draw(st.sampled_from(NAMES))]
        raw = (
            raw[: data.draw(st.integers(0, len(raw)))]
            + other[data.draw(st.integers(0, len(other))) :]
        )
    elif damage == "delete-line":
        lines = bytes(raw).splitlines(keepends=True)
        if lines:
            del lines[data.draw(st.integers(0, len(lines) - 1))]
        raw = bytearray(b"".join(lines))
    _assert_well_formed(parse(bytes(raw)))


def _closing_delimiter(raw: bytes) -> re.Match[bytes] | None:
    boundary = re.search(rb'boundary="?([^";\r\n]+)"?', raw)
    assert boundary is not None
    return re.search(rb"^--" + re.escape(boundary.group(1)) + rb"--", raw, re.MULTILINE)


@FUZZ
@given(st.sampled_from(MULTIPART), st.data())
def test_multipart_cut_before_its_end_says_so(name: str, data: st.DataObject) -> None:
    raw = MESSAGES[name]
    close = _closing_delimiter(raw)
    body = re.search(rb"\r?\n\r?\n", raw)
    assert body is not None
    if close is None:  # the corpus messages broken on purpose
        return
    # Anywhere between the end of the top-level headers and the closing delimiter line.
    cut = data.draw(st.integers(body.end(), close.start()))
    parsed = parse(raw[:cut])
    _assert_well_formed(parsed)
    assert parsed.notes, f"{name} cut at {cut} gave no note"


@pytest.mark.parametrize("name", MULTIPART)
def test_multipart_without_its_closing_line_says_so(name: str) -> None:
    raw = MESSAGES[name]
    close = _closing_delimiter(raw)
    if close is None:
        return
    end = raw.find(b"\n", close.end())
    damaged = raw[: close.start()] + (raw[end + 1 :] if end >= 0 else b"")
    parsed = parse(damaged)
    assert parsed.notes
    # What came before the damage is still read.
    assert parsed.text == parse(raw).text or EXPECTED[name].get("text") == ""


# Units a user would notice ------------------------------------------------------------------


def test_parse_never_raises_on_deep_nesting() -> None:
    raw = b"".join(
        b"Content-Type: multipart/mixed; boundary=%d\n\n--%d\n" % (i, i) for i in range(2000)
    )
    parsed = parse(
        b"From: a@example.com\nSubject: deep\n" + raw + b"Content-Type: text/plain\n\nhi\n"
    )
    assert parsed.subject == "deep"
    assert parsed.notes


def test_sanitize_html_removes_what_could_run_or_track() -> None:
    cleaned = sanitize_html(
        '<p onmouseover="x()">Hi</p><script>x()</script><a href="javascript:x()">a</a>'
        '<a href="https://example.com">b</a><img src="cid:logo@x">'
        '<img src="data:image/svg+xml,<svg/>">'
        '<td style="background:url(https://t.example/p.gif)">c</td><style>@import url(x)</style>'
        '<img src="/api/v1/me"><span style="position:fixed;color:red">d</span>'
    )
    assert "onmouseover" not in cleaned and "<script" not in cleaned and "javascript" not in cleaned
    assert '<a href="https://example.com" rel="noopener noreferrer">b</a>' in cleaned
    assert 'src="cid:logo@x"' in cleaned
    assert "svg" not in cleaned and "url(" not in cleaned and "@import" not in cleaned
    assert "/api/v1/me" not in cleaned  # relative URLs would point into Porch itself
    assert '<span style="color:red">d</span>' in cleaned


def test_charset_fallbacks_leave_notes_and_clean_mail_none() -> None:
    clean = parse(
        b"From: a@example.com\nSubject: s\nContent-Type: text/plain; charset=utf-8\n\nok\n"
    )
    assert clean.notes == ()
    broken = parse(
        b"From: a@example.com\nSubject: s\nContent-Type: text/plain; charset=shift_jis\n\n"
        b"\x82\xa0\x81 \n"
    )
    assert broken.text == "\u3042\ufffd \n"
    assert broken.notes == ("Some bytes of the text are not valid shift_jis; replaced.",)


@pytest.mark.parametrize(
    "header",
    [
        b"From: " + b"(" * 20000,
        b"To: " + b"a:" * 20000,
        b"From: Alice" + b" " * 50000 + b"x",
        b"Cc: " + b"@" * 300000,
        b"Content-Type: multipart/mixed" + b";" * 500000,
        b"Content-Disposition: attachment" + b";" * 500000,
        b"Subject: " + b"=?utf-8?q?" * 20000,
    ],
    ids=[
        "nested-comments",
        "nested-groups",
        "spaces",
        "ats",
        "semicolons",
        "semicolons-cd",
        "words",
    ],
)
def test_hostile_headers_cost_little_and_keep_the_rest(header: bytes) -> None:
    started = time.perf_counter()
    parsed = parse(b"Subject: still here\r\n" + header + b"\r\nMessage-ID: <k@x>\r\n\r\nbody\r\n")
    assert time.perf_counter() - started < 3  # quadratic stdlib paths would take minutes
    _assert_well_formed(parsed)
    assert parsed.message_id == "k@x"
    assert parsed.subject == "still here"


ATOM = st.text("abcXYZ019!#$%&'*+/=?^_`{|}~-", min_size=1, max_size=6)
ADDRESS = st.builds(
    lambda local, domain: f"{local}@{domain}", st.lists(ATOM, min_size=1, max_size=3).map(".".join),
    st.lists(st.text("abc019-", min_size=1, max_size=5), min_size=1, max_size=3).map(".".join),
)  # fmt: skip
PHRASE = st.lists(st.text("abcXYZ019!#$%&'*+/=?^_`{|}~.-", min_size=1, max_size=6), max_size=3)
MAILBOX = st.one_of(
    ADDRESS,
    st.builds(lambda words, gap, address: " ".join(words) + gap + f"<{address}>", PHRASE,
              st.sampled_from(["", " ", "\t", "  "]), ADDRESS),
    st.builds(lambda name, address: f'"{name}" <{address}>', st.text("ab ,;:<>()@.x", max_size=8),
              ADDRESS),
)  # fmt: skip


@FUZZ
@given(MAILBOX)
def test_simple_mailboxes_read_as_getaddresses_reads_them(mailbox: str) -> None:
    # The single-header shortcut must agree with the general path (taken for two headers).
    assert _headers.addresses([mailbox], []) == _headers.addresses([mailbox, ""], [])


def test_a_forwarded_message_is_kept_whole() -> None:
    parsed = parse(MESSAGES["33-forwarded-rfc822.eml"])
    forwarded = parse(parsed.attachments[0].data)
    assert forwarded.subject == "Invoice 2024-118"
    assert forwarded.message_id == "inv-118@example.org"
    assert forwarded.text == "Please find the invoice below. Total: 118 €"
    assert forwarded.notes == ()
