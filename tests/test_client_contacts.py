"""The SDK's contacts, contact lists and accounts against a real Porch (written to Front's spec
paths and bodies): aliases, handles, notes, merging, time filters and paging."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator

import pytest

from porch.client import Client, Conflict, NotFound
from tests.clients import async_client_of, client_of
from tests.conftest import Company


@pytest.fixture
def client(dunder_mifflin: Company) -> Iterator[Client]:
    c, _ = client_of(dunder_mifflin)
    with c:
        yield c


def test_contacts_by_alias_handles_and_notes(dunder_mifflin: Company, client: Client) -> None:
    dwight = client.contacts.create(
        name="Dwight",
        handles=[
            {"handle": "dwight@schrutefarms.com", "source": "email"},
            {"handle": "+12345678900", "source": "phone"},
        ],
        list_names=["Beet buyers"],
    )
    assert dwight["id"].startswith("crd_")
    assert client.contacts.get("alt:email:dwight@schrutefarms.com")["id"] == dwight["id"]
    assert client.contacts.get("alt:phone:+12345678900")["id"] == dwight["id"]
    assert client.contacts.update(dwight["id"], name="Dwight K. Schrute") is None
    assert client.contacts.get(dwight["id"])["name"] == "Dwight K. Schrute"

    assert client.contacts.add_handle(dwight["id"], handle="@beets", source="twitter") is None
    assert client.contacts.get("alt:twitter:@beets")["id"] == dwight["id"]
    with pytest.raises(Conflict):
        client.contacts.create(handles=[{"handle": "@beets", "source": "twitter"}])
    client.contacts.delete_handle(dwight["id"], handle="@beets", source="twitter")
    with pytest.raises(NotFound):
        client.contacts.get("alt:twitter:@beets")

    note = client.contacts.add_note(
        dwight["id"], body="Bears. Beets.", author_id=dunder_mifflin.admin_id
    )
    assert note["body"] == "Bears. Beets."
    assert [n["body"] for n in client.contacts.notes(dwight["id"])] == ["Bears. Beets."]

    client.contacts.delete(dwight["id"])
    with pytest.raises(NotFound):
        client.contacts.get(dwight["id"])


def test_contacts_listed_by_update_time_and_paged(client: Client) -> None:
    def make(i: int) -> str:
        handle = {"handle": f"buyer{i}@example.com", "source": "email"}
        return str(client.contacts.create(name=f"Buyer {i}", handles=[handle])["id"])

    early = [make(i) for i in range(3)]
    time.sleep(0.05)
    since = time.time()
    time.sleep(0.05)
    late = [make(i) for i in range(3, 8)]
    ascending = client.contacts.list(sort_by="created_at", sort_order="asc", page_size=2)
    assert [c["id"] for c in ascending] == early + late
    recent = client.contacts.list(updated_after=since, page_size=2)
    assert {c["id"] for c in recent} == set(late)
    older = client.contacts.list(updated_before=since)
    assert {c["id"] for c in older} == set(early)
    # An update moves a contact into the recent ones.
    client.contacts.update(early[0], description="Called back")
    assert {c["id"] for c in client.contacts.list(updated_after=since)} == {early[0], *late}


def test_merging_contacts(client: Client) -> None:
    jim = client.contacts.create(handles=[{"handle": "jim@athlead.com", "source": "email"}])
    big_tuna = client.contacts.create(handles=[{"handle": "+15705550100", "source": "phone"}])
    merged = client.contacts.merge(contact_ids=[jim["id"], big_tuna["id"]])
    assert merged["id"] == jim["id"]
    handles = {(h["source"], h["handle"]) for h in merged["handles"]}
    assert handles == {("email", "jim@athlead.com"), ("phone", "+15705550100")}
    with pytest.raises(NotFound):
        client.contacts.get(big_tuna["id"])
    assert client.contacts.get("alt:phone:+15705550100")["id"] == jim["id"]


def test_a_contacts_conversations(dunder_mifflin: Company, client: Client) -> None:
    inbox = client.inboxes.create(name="Chat", team_id=dunder_mifflin.team_id)
    client.inboxes.create_channel(inbox["id"], type="custom")
    (channel,) = client.inboxes.channels(inbox["id"])
    accepted = client.channels.incoming_message(
        channel["id"], sender_handle="kevin@example.com", body="Chili"
    )
    deadline = time.monotonic() + 15
    while True:
        try:
            message = client.messages.get(f"alt:uid:{accepted['message_uid']}")
            break
        except NotFound:
            assert time.monotonic() < deadline
            time.sleep(0.02)
    conversation = message["_links"]["related"]["conversation"].rsplit("/", 1)[-1]
    kevin = client.contacts.get("alt:custom:kevin@example.com")
    assert [c["id"] for c in client.contacts.conversations(kevin["id"])] == [conversation]


def test_contact_lists(dunder_mifflin: Company, client: Client) -> None:
    pam = client.contacts.create(handles=[{"handle": "pam@example.com", "source": "email"}])
    assert client.contact_lists.create(name="Artists") is None
    (artists,) = [g for g in client.contact_lists.list() if g["name"] == "Artists"]
    client.contact_lists.add_contacts(artists["id"], contact_ids=[pam["id"]])
    assert [c["id"] for c in client.contact_lists.contacts(artists["id"])] == [pam["id"]]
    client.contact_lists.remove_contacts(artists["id"], contact_ids=[pam["id"]])
    assert list(client.contact_lists.contacts(artists["id"])) == []
    client.contact_lists.create(name="Sales leads", team_id=dunder_mifflin.team_id)
    team_lists = client.contact_lists.list(team_id=dunder_mifflin.team_id)
    assert "Sales leads" in {g["name"] for g in team_lists}
    client.contact_lists.delete(artists["id"])
    assert "Artists" not in {g["name"] for g in client.contact_lists.list()}


def test_accounts(client: Client) -> None:
    vance = client.accounts.create(
        name="Vance Refrigeration", domains=["vancerefrigeration.com"], external_id="vr-1"
    )
    assert vance["id"].startswith("acc_")
    assert client.accounts.get("alt:domain:vancerefrigeration.com")["id"] == vance["id"]
    assert client.accounts.get("alt:ext_id:vr-1")["id"] == vance["id"]
    updated = client.accounts.update(vance["id"], description="Across the hall")
    assert updated["description"] == "Across the hall"
    bob = client.contacts.create(handles=[{"handle": "bob@vance.com", "source": "email"}])
    assert client.accounts.add_contacts(vance["id"], contact_ids=[bob["id"]]) is None
    assert [c["id"] for c in client.accounts.contacts(vance["id"])] == [bob["id"]]
    client.accounts.remove_contacts(vance["id"], contact_ids=[bob["id"]])
    assert list(client.accounts.contacts(vance["id"])) == []
    others = [client.accounts.create(name=f"Client {i}")["id"] for i in range(4)]
    listed = client.accounts.list(sort_by="created_at", sort_order="asc", page_size=2)
    assert [a["id"] for a in listed] == [vance["id"], *others]
    client.accounts.delete(vance["id"])
    with pytest.raises(NotFound):
        client.accounts.get(vance["id"])


def test_async_contacts(dunder_mifflin: Company) -> None:
    async def go() -> None:
        client, _ = async_client_of(dunder_mifflin)
        async with client:
            made = await asyncio.gather(
                *(
                    client.contacts.create(
                        handles=[{"handle": f"temp{i}@example.com", "source": "email"}]
                    )
                    for i in range(12)
                )
            )
            found = {c["id"] async for c in client.contacts.list(page_size=5)}
            assert found == {c["id"] for c in made}
            got = await client.contacts.get("alt:email:temp3@example.com")
            assert got["id"] in found

    asyncio.run(go())
