"""The intake: an accepted message is written after its 202, and one that cannot be written is
kept with its error, without holding up the others.

A row Porch cannot write is made the way a newer Porch would leave one behind after a
downgrade: an intake row of a kind this version does not know, committed through the store.
The operator sees it with ``porch intake status`` and sends it round again with ``retry``.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Api, Company

PORCH = Path(sys.executable).parent / "porch"


def _custom_channel(company: Company) -> str:
    api = company.api
    inbox = api.ok("POST", f"/teams/{company.team_id}/inboxes", 201, json={"name": "Intake"})
    api.ok("POST", f"/inboxes/{inbox['id']}/channels", 204, json={"type": "custom"})
    return str(api.ok("GET", f"/inboxes/{inbox['id']}/channels")["_results"][0]["id"])


def _accept(api: Api, channel: str, body: str) -> str:
    payload = {"sender": {"handle": "creed@example.com"}, "body": body}
    answer = api.ok("POST", f"/channels/{channel}/incoming_messages", 202, json=payload)
    assert answer["status"] == "accepted"
    return str(answer["message_uid"])


def _porch(company: Company, *args: str) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PORCH_")}
    env["PORCH_DATABASE_URL"] = company.server.settings.database_url
    cmd = [str(PORCH), *args, "--data-dir", str(company.server.settings.data_dir)]
    done = subprocess.run(
        [*cmd, "--company", company.id], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def _settled_status(company: Company) -> list[str]:
    """``porch intake status`` once nothing waits any more (bounded)."""
    deadline = time.monotonic() + 15
    while (lines := _porch(company, "intake", "status").splitlines())[0].startswith("1 waiting"):
        assert time.monotonic() < deadline, lines
        time.sleep(0.1)
    return lines


def test_a_row_that_cannot_be_written_is_kept_and_the_rest_goes_on(
    dunder_mifflin: Company,
) -> None:
    if not PORCH.exists():
        pytest.skip(f"the porch console script is not installed next to {sys.executable}")
    from porch.ids import decode
    from porch.store import intake

    api = dunder_mifflin.api
    channel = _custom_channel(dunder_mifflin)
    channel_key = decode("cha", channel)
    before = _accept(api, channel, "Accepted before the stray row")

    async def stray(db: Any) -> None:
        async with db.transaction() as tx:
            await intake.add(
                tx,
                company_id=dunder_mifflin.key,
                channel_id=channel_key,
                kind="carrier-pigeon",
                uid="f" * 32,
                source_type="api",
                source_id=None,
                payload="{}",
                received_at=int(time.time() * 1000),
            )

    dunder_mifflin.server.run(stray)
    after = _accept(api, channel, "Accepted after the stray row")
    # Both real messages are written, in one conversation (same sender), the stray row is not.
    first, second = api.message(before), api.message(after)
    conversation = first["_links"]["related"]["conversation"]
    assert second["_links"]["related"]["conversation"] == conversation
    assert api.get(f"/messages/alt:uid:{'f' * 32}").status_code == 404

    status = _settled_status(dunder_mifflin)
    assert status[0] == "0 waiting to be written, 1 failed:"
    assert status[1].split()[0] == "f" * 32 and "carrier-pigeon" in status[1]

    # Sent round again it fails again (nothing here knows pigeons), and is still kept.
    assert _porch(dunder_mifflin, "intake", "retry").startswith("1 failed message")
    assert _settled_status(dunder_mifflin)[0] == "0 waiting to be written, 1 failed:"
    events = api.ok("GET", "/porch/events", params={"q[types]": "intake_retried"})["_results"]
    assert [e["data"]["count"] for e in events] == [1]
