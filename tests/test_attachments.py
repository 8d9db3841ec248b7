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
