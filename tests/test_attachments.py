"""Attachments: files on comments (multipart uploads), stored once by content, downloaded."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any
from urllib.parse import quote

from tests.conftest import Api, Company


def _conversation(company: Company) -> str:
    api = company.api
    inbox = api.ok("POST", f"/teams/{company.team_id}/inboxes", 201, json={"name": "Files"})
    return str(
        api.ok(
            "POST",
            "/conversations",
            201,
            json={"type": "task", "subject": "Files", "inbox_id": inbox["id"]},
        )["id"]
    )


def _upload(api: Api, path: str, body: str, *files: tuple[str, bytes, str]) -> Any:
    return api.post(
        path,
        data={"body": body},
        files=[("attachments[]", (name, data, ctype)) for name, data, ctype in files],
    )


def _blobs(company: Company, data: bytes) -> list[Path]:
    """The files on disk holding ``data`` (by its content hash)."""
    digest = hashlib.sha256(data).hexdigest()
    return list((company.server.settings.data_dir / "attachments").rglob(digest))


def test_files_round_trip_byte_for_byte(dunder_mifflin: Company) -> None:
    api = dunder_mifflin.api
    conv = _conversation(dunder_mifflin)
    binary = os.urandom(300 * 1024)
    text = "Dwight's beet report: 🥕 ça marche\n".encode()
    resp = _upload(
        api,
        f"/conversations/{conv}/comments",
        "See attached.",
        ("beets.bin", binary, "application/octet-stream"),
        ("rapport d'été 🐻.txt", text, "text/plain"),
    )
    assert resp.status_code == 201, resp.text
    comment = resp.json()
    assert comment["body"] == "See attached."
    first, second = comment["attachments"]
    assert first["id"].startswith("fil_") and first["filename"] == "beets.bin"
    assert first["size"] == len(binary) and first["content_type"] == "application/octet-stream"
    assert first["metadata"] == {"is_inline": False}
    assert second["filename"] == "rapport d'été 🐻.txt" and second["size"] == len(text)
    assert first["url"] == f"{api.base_url}/download/{first['id']}"
    # The comment shows its files wherever it is read.
    assert api.ok("GET", f"/comments/{comment['id']}") == comment
    assert api.ok("GET", f"/conversations/{conv}/comments")["_results"] == [comment]

    for att, data in ((first, binary), (second, text)):
        for path in (f"/download/{att['id']}", f"/comments/{comment['id']}/download/{att['id']}"):
            got = api.get(path)
            assert got.status_code == 200
            assert got.content == data
            assert got.headers["content-type"] == att["content_type"]
            assert got.headers["content-length"] == str(len(data))
            assert got.headers["content-disposition"].startswith("attachment;")
            assert got.headers["content-disposition"].endswith(
                "filename*=UTF-8''" + quote(att["filename"], safe="")
            )


def test_replies_and_form_fields(dunder_mifflin: Company) -> None:
    api = dunder_mifflin.api
    conv = _conversation(dunder_mifflin)
    parent = api.ok("POST", f"/conversations/{conv}/comments", 201, json={"body": "Parent"})
    resp = api.post(
        f"/comments/{parent['id']}/replies",
        data={"body": "Reply", "is_pinned": "true", "author_id": dunder_mifflin.admin_id},
        files=[("attachments[]", ("a.txt", b"a", "text/plain"))],
    )
    assert resp.status_code == 201, resp.text
    reply = resp.json()
    assert reply["is_pinned"] is True and reply["author"]["id"] == dunder_mifflin.admin_id
    assert reply["_links"]["related"]["comment_replied_to"].endswith(parent["id"])
    assert [a["filename"] for a in reply["attachments"]] == ["a.txt"]
    # A file of one comment is not reachable through another comment.
    att = reply["attachments"][0]["id"]
    assert api.get(f"/comments/{parent['id']}/download/{att}").status_code == 404
    bad = api.post(
        f"/conversations/{conv}/comments",
        data={"body": "x", "is_pinned": "maybe"},
        files=[("attachments[]", ("maybe.txt", b"maybe pinned", "text/plain"))],
    )
    assert bad.status_code == 400
    assert _blobs(dunder_mifflin, b"maybe pinned") == []
    assert len(api.ok("GET", f"/conversations/{conv}/comments")["_results"]) == 2


def test_same_bytes_are_stored_once(dunder_mifflin: Company) -> None:
    api = dunder_mifflin.api
    conv = _conversation(dunder_mifflin)
    data = os.urandom(4096)
    one = _upload(api, f"/conversations/{conv}/comments", "1", ("a.bin", data, "image/png"))
    two = _upload(api, f"/conversations/{conv}/comments", "2", ("b.bin", data, "image/png"))
    assert one.status_code == two.status_code == 201
    a, b = one.json()["attachments"][0], two.json()["attachments"][0]
    assert a["id"] != b["id"] and a["filename"] == "a.bin" and b["filename"] == "b.bin"
    [blob] = _blobs(dunder_mifflin, data)
    assert blob.read_bytes() == data
    assert not list(blob.parent.glob(".tmp-*"))
    assert api.get(f"/download/{b['id']}").content == data


def _nothing_changed(company: Company, conv: str, before: list[Any]) -> None:
    api = company.api
    assert api.ok("GET", f"/conversations/{conv}/comments")["_results"] == []
    assert api.ok("GET", "/porch/events", params={"limit": 100})["_results"] == before


def test_a_file_over_25_mb_is_refused_and_nothing_is_stored(dunder_mifflin: Company) -> None:
    api = dunder_mifflin.api
    conv = _conversation(dunder_mifflin)
    before = api.ok("GET", "/porch/events", params={"limit": 100})["_results"]
    big = os.urandom(25 * 1024 * 1024 + 1)
    resp = _upload(
        api,
        f"/conversations/{conv}/comments",
        "Too big",
        ("small.txt", b"small and fine", "text/plain"),
        ("big.bin", big, "application/octet-stream"),
    )
    assert resp.status_code == 413, resp.text
    assert resp.json()["_error"]["status"] == 413
    _nothing_changed(dunder_mifflin, conv, before)
    assert _blobs(dunder_mifflin, big) == []
    assert _blobs(dunder_mifflin, b"small and fine") == []


def test_malformed_multipart_is_a_400(dunder_mifflin: Company) -> None:
    api = dunder_mifflin.api
    conv = _conversation(dunder_mifflin)
    before = api.ok("GET", "/porch/events", params={"limit": 100})["_results"]
    truncated = (
        b"--xyz\r\n"
        b'Content-Disposition: form-data; name="body"\r\n\r\n'
        b"Cut short\r\n"
        b"--xyz\r\n"
        b'Content-Disposition: form-data; name="attachments[]"; filename="cut.txt"\r\n'
        b"Content-Type: text/plain\r\n\r\n"
        b"never finished"
    )
    for body, ctype in (
        (truncated, "multipart/form-data; boundary=xyz"),
        (b"not multipart at all", "multipart/form-data; boundary=xyz"),
        (b"--xyz--\r\n", "multipart/form-data"),
    ):
        resp = api.post(
            f"/conversations/{conv}/comments", content=body, headers={"content-type": ctype}
        )
        assert resp.status_code == 400, (body, resp.text)
    _nothing_changed(dunder_mifflin, conv, before)
    assert _blobs(dunder_mifflin, b"never finished") == []
    # A well-formed form that is bad input (no body) stores nothing either.
    resp = api.post(
        f"/conversations/{conv}/comments",
        files=[("attachments[]", ("orphan.txt", b"orphan file content", "text/plain"))],
    )
    assert resp.status_code == 400
    _nothing_changed(dunder_mifflin, conv, before)
    assert _blobs(dunder_mifflin, b"orphan file content") == []


def test_another_companys_files_are_not_found(
    dunder_mifflin: Company, vance_refrigeration: Company
) -> None:
    api = dunder_mifflin.api
    conv = _conversation(dunder_mifflin)
    comment = _upload(
        api, f"/conversations/{conv}/comments", "Secret", ("plan.txt", b"plan", "text/plain")
    ).json()
    att = comment["attachments"][0]["id"]
    bob = vance_refrigeration.api
    assert bob.get(f"/download/{att}").status_code == 404
    assert bob.get(f"/comments/{comment['id']}/download/{att}").status_code == 404
    assert bob.get("/download/fil_zzzzzz").status_code == 404
    assert api.get(f"/download/{att}").content == b"plan"


# --- Messages and drafts ----------------------------------------------------------------------

# Bytes no text codec would survive: NULs, high bytes, a CRLF and a lone CR.
AWKWARD = bytes(range(256)) * 3 + b"\x00\x00\r\n\r\xff\xfe"


def _channel(company: Company, kind: str) -> tuple[str, str]:
    """A channel of ``kind`` (custom or smtp) in a new inbox: (channel id, inbox id)."""
    api = company.api
    inbox = api.ok("POST", f"/teams/{company.team_id}/inboxes", 201, json={"name": kind})
    body: dict[str, Any] = {"type": kind}
    if kind == "smtp":
        body["send_as"] = f"files-{company.key}@example.com"
    api.ok("POST", f"/inboxes/{inbox['id']}/channels", 204, json=body)
    channel = api.ok("GET", f"/inboxes/{inbox['id']}/channels")["_results"][0]["id"]
    return str(channel), str(inbox["id"])


def _form_files(*files: tuple[str, bytes, str]) -> list[tuple[str, tuple[str, bytes, str]]]:
    return [("attachments[]", (name, data, ctype)) for name, data, ctype in files]


def _accepted_message(api: Api, resp: Any) -> dict[str, Any]:
    assert resp.status_code == 202, resp.text
    msg: dict[str, Any] = api.message(resp.json()["message_uid"])
    return msg


def _downloads_match(api: Api, msg: dict[str, Any], files: list[tuple[str, bytes, str]]) -> None:
    """The message lists exactly ``files`` and each downloads byte for byte, both ways."""
    listed = msg["attachments"]
    assert [(a["filename"], a["content_type"], a["size"]) for a in listed] == [
        (name, ctype, len(data)) for name, data, ctype in files
    ]
    for att, (name, data, ctype) in zip(listed, files, strict=True):
        assert att["id"].startswith("fil_") and att["metadata"] == {"is_inline": False}
        assert att["url"] == f"{api.base_url}/download/{att['id']}"
        for path in (f"/download/{att['id']}", f"/messages/{msg['id']}/download/{att['id']}"):
            got = api.get(path)
            assert got.status_code == 200, got.text
            assert got.content == data
            assert got.headers["content-type"] == ctype
            assert got.headers["content-length"] == str(len(data))
            assert got.headers["content-disposition"].endswith(
                "filename*=UTF-8''" + quote(name, safe="")
            )


def test_sent_messages_and_replies_keep_their_files(dunder_mifflin: Company) -> None:
    api = dunder_mifflin.api
    channel, _ = _channel(dunder_mifflin, "custom")
    files = [
        ("awkward.bin", AWKWARD, "application/octet-stream"),
        ("procès-verbal 🐻.txt", "Été\n".encode(), "text/plain"),
    ]
    resp = api.post(
        f"/channels/{channel}/messages",
        data={
            "to[]": ["darryl@warehouse.example", "roy@warehouse.example"],
            "cc[0]": "val@warehouse.example",
            "subject": "Inventory",
            "body": "Counts attached.",
            "options[archive]": "false",
        },
        files=_form_files(*files),
    )
    msg = _accepted_message(api, resp)
    assert msg["subject"] == "Inventory" and msg["body"] == "Counts attached."
    people = [(r["role"], r["handle"]) for r in msg["recipients"][1:]]
    assert people == [
        ("to", "darryl@warehouse.example"),
        ("to", "roy@warehouse.example"),
        ("cc", "val@warehouse.example"),
    ]
    _downloads_match(api, msg, files)
    conv = msg["_links"]["related"]["conversation"].rsplit("/", 1)[1]
    # options[archive]=false was read as the boolean it stands for.
    assert api.ok("GET", f"/conversations/{conv}")["status"] != "archived"
    # The conversation's list shows the same files.
    [listed] = api.ok("GET", f"/conversations/{conv}/messages")["_results"]
    assert listed["attachments"] == msg["attachments"]

    reply_files = [("reply.csv", b"a,b\n1,2\n", "text/csv")]
    reply = _accepted_message(
        api,
        api.post(
            f"/conversations/{conv}/messages",
            data={"to[]": "darryl@warehouse.example", "body": "And the reply."},
            files=_form_files(*reply_files),
        ),
    )
    _downloads_match(api, reply, reply_files)
    # A file of one message is not reachable through another.
    first = msg["attachments"][0]["id"]
    assert api.get(f"/messages/{reply['id']}/download/{first}").status_code == 404


def test_received_and_imported_messages_take_files(dunder_mifflin: Company) -> None:
    api = dunder_mifflin.api
    channel, inbox = _channel(dunder_mifflin, "custom")
    files = [("scan.pdf", AWKWARD[:1000], "application/pdf")]
    received = _accepted_message(
        api,
        api.post(
            f"/channels/{channel}/incoming_messages",
            data={
                "sender[handle]": "stanley@example.com",
                "sender[name]": "Stanley",
                "body": "Crossword attached",
                "metadata[thread_ref]": "crossword",
            },
            files=_form_files(*files),
        ),
    )
    assert received["recipients"][0]["name"] == "Stanley"
    assert received["metadata"] == {"thread_ref": "crossword"}
    _downloads_match(api, received, files)

    imported = _accepted_message(
        api,
        api.post(
            f"/inboxes/{inbox}/imported_messages",
            data={
                "sender[handle]": "jan@example.com",
                "to[]": "sales@dundermifflin.com",
                "body": "Old contract",
                "external_id": "contract-1",
                "created_at": "1700000000",
                "metadata[is_inbound]": "true",
                "metadata[is_archived]": "false",
                "tags[]": ["contracts", "legal"],
            },
            files=_form_files(*files),
        ),
    )
    assert imported["created_at"] == 1_700_000_000
    _downloads_match(api, imported, files)
    # The same content is kept once, however many messages carry it.
    assert len(_blobs(dunder_mifflin, AWKWARD[:1000])) == 1


def test_draft_files_are_kept_on_edit_and_go_with_the_draft(dunder_mifflin: Company) -> None:
    api = dunder_mifflin.api
    channel, _ = _channel(dunder_mifflin, "smtp")
    files = [("quote.pdf", AWKWARD, "application/pdf")]
    resp = api.post(
        f"/channels/{channel}/drafts",
        data={"to[]": "jan@example.com", "body": "<p>Quote</p>", "mode": "shared"},
        files=_form_files(*files),
    )
    assert resp.status_code == 200, resp.text
    draft = resp.json()
    _downloads_match(api, draft, files)
    conv = draft["_links"]["related"]["conversation"].rsplit("/", 1)[1]
    [listed] = api.ok("GET", f"/conversations/{conv}/drafts")["_results"]
    assert listed["attachments"] == draft["attachments"]

    reply = api.post(
        f"/conversations/{conv}/drafts",
        data={"channel_id": channel, "body": "<p>Reply</p>"},
        files=_form_files(("note.txt", b"note", "text/plain")),
    )
    assert reply.status_code == 200, reply.text
    assert [a["filename"] for a in reply.json()["attachments"]] == ["note.txt"]

    edit = {"channel_id": channel, "body": "<p>Quote v2</p>", "version": draft["version"]}
    edited = api.ok("PATCH", f"/drafts/{draft['id']}/", json=edit)
    assert edited["attachments"] == draft["attachments"]
    # Front's edit takes no files: a form is refused and changes nothing.
    form = api.patch(
        f"/drafts/{draft['id']}/",
        data={**edit, "version": edited["version"]},
        files=_form_files(("more.txt", b"more", "text/plain")),
    )
    assert form.status_code == 400
    assert api.ok("GET", f"/messages/{draft['id']}")["version"] == edited["version"]

    att = draft["attachments"][0]["id"]
    api.ok("DELETE", f"/drafts/{draft['id']}", 204, json={"version": edited["version"]})
    assert api.get(f"/download/{att}").status_code == 404
    assert api.get(f"/messages/{draft['id']}/download/{att}").status_code == 404


def test_a_private_drafts_files_are_as_private_as_the_draft(dunder_mifflin: Company) -> None:
    api = dunder_mifflin.api
    channel, _ = _channel(dunder_mifflin, "smtp")
    draft = api.post(
        f"/channels/{channel}/drafts",
        data={"body": "<p>Secret</p>"},
        files=_form_files(("secret.txt", b"secret", "text/plain")),
    ).json()
    att = draft["attachments"][0]["id"]
    shared_only = dunder_mifflin.client(dunder_mifflin.token(namespaces=["shared"]))
    assert shared_only.get(f"/download/{att}").status_code == 404
    assert shared_only.get(f"/messages/{draft['id']}/download/{att}").status_code == 404
    assert api.get(f"/download/{att}").content == b"secret"


def _events(api: Api) -> list[Any]:
    return list(api.all_pages("/porch/events", limit=100))


def test_message_files_over_25_mb_or_malformed_store_nothing(dunder_mifflin: Company) -> None:
    api = dunder_mifflin.api
    channel, inbox = _channel(dunder_mifflin, "custom")
    before = _events(api)
    big = os.urandom(25 * 1024 * 1024 + 1)
    fine = ("fine.txt", b"fine and small for a message", "text/plain")
    sends = {
        f"/channels/{channel}/messages": {"to[]": "a@example.com", "body": "big"},
        f"/channels/{channel}/incoming_messages": {"sender[handle]": "b@example.com", "body": "x"},
        f"/channels/{channel}/drafts": {"body": "big"},
    }
    for path, data in sends.items():
        resp = api.post(
            path, data=data, files=_form_files(fine, ("big.bin", big, "application/octet-stream"))
        )
        assert resp.status_code == 413, (path, resp.text)
        assert resp.json()["_error"]["status"] == 413
    truncated = (
        b"--xyz\r\n"
        b'Content-Disposition: form-data; name="body"\r\n\r\n'
        b"Cut short\r\n"
        b"--xyz\r\n"
        b'Content-Disposition: form-data; name="attachments[]"; filename="cut.txt"\r\n'
        b"Content-Type: text/plain\r\n\r\n"
        b"never finished message file"
    )
    resp = api.post(
        f"/inboxes/{inbox}/imported_messages",
        content=truncated,
        headers={"content-type": "multipart/form-data; boundary=xyz"},
    )
    assert resp.status_code == 400
    # A file under another field name, or a form field given twice, is bad input too.
    bad: list[tuple[dict[str, Any], list[Any]]] = [
        ({"to[]": "a@example.com", "body": "x"}, [("file", fine)]),
        ({"to[]": "a@example.com", "body": ["x", "y"]}, _form_files(fine)),
        ({"to[]": "a@example.com", "to[x]": "b@example.com", "body": "x"}, _form_files(fine)),
    ]
    for data, files in bad:
        resp = api.post(f"/channels/{channel}/messages", data=data, files=files)
        assert resp.status_code == 400, resp.text
    assert _events(api) == before
    assert _blobs(dunder_mifflin, big) == []
    assert _blobs(dunder_mifflin, b"fine and small for a message") == []
    assert _blobs(dunder_mifflin, b"never finished message file") == []
    assert api.all_pages(f"/inboxes/{inbox}/conversations") == []


def test_another_companys_message_files_are_not_found(
    dunder_mifflin: Company, vance_refrigeration: Company
) -> None:
    api = dunder_mifflin.api
    channel, _ = _channel(dunder_mifflin, "custom")
    msg = _accepted_message(
        api,
        api.post(
            f"/channels/{channel}/messages",
            data={"to[]": "a@example.com", "body": "Private"},
            files=_form_files(("plan.txt", b"message plan", "text/plain")),
        ),
    )
    att = msg["attachments"][0]["id"]
    bob = vance_refrigeration.api
    assert bob.get(f"/download/{att}").status_code == 404
    assert bob.get(f"/messages/{msg['id']}/download/{att}").status_code == 404
    # Their own message does not open our file either.
    theirs, _ = _channel(vance_refrigeration, "custom")
    their_msg = _accepted_message(
        bob, bob.post(f"/channels/{theirs}/messages", json={"to": ["x@y.z"], "body": "Hi"})
    )
    assert bob.get(f"/messages/{their_msg['id']}/download/{att}").status_code == 404
    assert api.get(f"/messages/{msg['id']}/download/{att}").content == b"message plan"
