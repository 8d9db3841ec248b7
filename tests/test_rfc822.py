"""GET /messages/{id} as an EML file (Accept: message/rfc822), parsed back with the stdlib.

The spec documents only the JSON form of get-message, so the EML answers are read with the raw
HTTP client (the spec checker judges JSON bodies only); error answers go through the checker.
"""

from __future__ import annotations

from datetime import UTC, datetime
from email import message_from_bytes
from email.message import EmailMessage, MIMEPart
from email.policy import default
from email.utils import getaddresses, parsedate_to_datetime
from typing import Any

from tests.conftest import Api, Company

EML = {"accept": "message/rfc822"}
AWKWARD = bytes(range(256)) + b"\x00\r\n\r\x00\xff"


def _inbox(company: Company) -> str:
    api = company.api
    inbox = api.ok("POST", f"/teams/{company.team_id}/inboxes", 201, json={"name": "EML"})
    return str(inbox["id"])


def _imported(api: Api, inbox: str, files: list[Any] | None = None, **data: Any) -> Any:
    form = {
        "sender[handle]": "jan@example.com",
        "sender[name]": "Jan Levinson",
        "to[]": ["michael@dundermifflin.com", "dwight@dundermifflin.com"],
        "cc[]": "pam@dundermifflin.com",
        "bcc[]": "toby@dundermifflin.com",
        "subject": "Été contract — signed",
        "body": "<p>Signed &amp; sealed</p>",
        "body_format": "html",
        "external_id": "eml-1",
        "created_at": "1700000000",
        "metadata[is_inbound]": "true",
        **data,
    }
    if "to" in form:
        form["to[]"] = form.pop("to")
    resp = api.post(f"/inboxes/{inbox}/imported_messages", data=form, files=files or [])
    assert resp.status_code == 202, resp.text
    return api.message(resp.json()["message_uid"])


def _text(part: MIMEPart | None) -> str:
    """A text part's content with the wire's CRLF line ends read back as newlines."""
    assert part is not None
    content: str = part.get_content()
    return content.replace("\r\n", "\n").rstrip("\n")


def _eml(api: Api, message_id: str, accept: str = "message/rfc822") -> EmailMessage:
    resp = api.http.get(f"/messages/{message_id}", headers={"accept": accept})
    assert resp.status_code == 200, resp.text
    assert resp.headers["content-type"] == "message/rfc822"
    parsed = message_from_bytes(resp.content, policy=default)
    assert isinstance(parsed, EmailMessage)
    return parsed


def test_an_email_message_as_eml(dunder_mifflin: Company) -> None:
    api = dunder_mifflin.api
    files = [
        ("attachments[]", ("awkward.bin", AWKWARD, "application/octet-stream")),
        ("attachments[]", ("procès-verbal 🐻.txt", "Été\n".encode(), "text/plain")),
    ]
    msg = _imported(api, _inbox(dunder_mifflin), files)
    eml = _eml(api, msg["id"])
    assert getaddresses([eml["From"]]) == [("Jan Levinson", "jan@example.com")]
    assert [a for _, a in getaddresses([eml["To"]])] == [
        "michael@dundermifflin.com",
        "dwight@dundermifflin.com",
    ]
    assert [a for _, a in getaddresses([eml["Cc"]])] == ["pam@dundermifflin.com"]
    # Bcc is not part of the copy a recipient gets.
    assert eml["Bcc"] is None
    assert eml["Subject"] == "Été contract — signed"
    assert parsedate_to_datetime(eml["Date"]) == datetime.fromtimestamp(1_700_000_000, UTC)
    assert eml["Message-ID"] == f"<{msg['message_uid']}@porch.invalid>"
    # The id is stable: fetching again (and by uid) gives the same one.
    assert _eml(api, f"alt:uid:{msg['message_uid']}")["Message-ID"] == eml["Message-ID"]

    assert _text(eml.get_body(preferencelist=("plain",))) == msg["text"] == "Signed & sealed"
    assert _text(eml.get_body(preferencelist=("html",))) == msg["body"]
    got = [
        (part.get_filename(), part.get_content_type(), part.get_payload(decode=True))
        for part in eml.iter_attachments()
    ]
    assert got == [
        ("awkward.bin", "application/octet-stream", AWKWARD),
        ("procès-verbal 🐻.txt", "text/plain", "Été\n".encode()),
    ]


def test_a_plain_email_has_a_text_body_only(dunder_mifflin: Company) -> None:
    api = dunder_mifflin.api
    msg = _imported(
        api,
        _inbox(dunder_mifflin),
        body="Just text, *as written*.",
        body_format="markdown",
        external_id="eml-2",
    )
    eml = _eml(api, msg["id"], accept="text/html;q=0.2, message/rfc822")
    assert eml.get_content_type() == "text/plain"
    assert _text(eml) == "Just text, *as written*."
    assert list(eml.iter_attachments()) == []


def test_other_accept_headers_keep_json(dunder_mifflin: Company) -> None:
    api = dunder_mifflin.api
    msg = _imported(api, _inbox(dunder_mifflin), external_id="eml-3")
    for accept in (
        None,
        "*/*",
        "application/json",
        "message/*",
        "message/rfc822;q=0.5, application/json",
        "message/rfc822;q=0",
    ):
        headers = {"accept": accept} if accept else {}
        resp = api.get(f"/messages/{msg['id']}", headers=headers)
        assert resp.status_code == 200
        assert resp.headers["content-type"].startswith("application/json"), accept
        assert resp.json() == msg


def test_only_email_messages_have_an_eml(
    dunder_mifflin: Company, vance_refrigeration: Company
) -> None:
    api = dunder_mifflin.api
    inbox = _inbox(dunder_mifflin)
    sms = _imported(api, inbox, None, external_id="eml-sms", type="sms", to="+15551234")
    resp = api.get(f"/messages/{sms['id']}", headers=EML)
    assert resp.status_code == 406
    assert "email" in resp.json()["_error"]["message"]
    email = _imported(api, inbox, external_id="eml-4")
    bob = vance_refrigeration.api
    assert bob.get(f"/messages/{email['id']}", headers=EML).status_code == 404
    assert bob.get(f"/messages/alt:uid:{email['message_uid']}", headers=EML).status_code == 404
