"""``porch contacts sync`` against a running Porch, as an operator runs it.

A 10,000-row CRM export is synced into an empty company (every contact created), then a changed
export (1,000 rows changed, 100 broken rows added) applied (exact counts, the broken rows
reported), then applied again (nothing written: the event log does not grow). An interrupted run
is resumed without duplicates; a company whose rate limit is small gets its 429s honoured and
loses no row. The 10,000-row run is on SQLite (the PostgreSQL half runs the smaller cases).
"""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Company

PORCH = Path(sys.executable).parent / "porch"
ROWS = 10_000
HEADER = ["Email", "First name", "Last name", "Phone", "Segments", "Seats", "Plan"]


def _row(n: int, *, changed: bool = False) -> list[str]:
    return [
        f"customer{n}@example.com",
        ["Ada", "Ben", "Cleo", "Dev"][n % 4],
        ["Smith", "Ng", "Garcia"][n % 3] + (" Jr" if changed else ""),
        f"+1415555{n % 10000:04d}" if n % 5 == 0 else "",
        f"Segment {n % 7}",
        str(10 + n % 90 + (1 if changed else 0)),
        ["starter", "growth"][n % 2],
    ]


def _write(path: Path, rows: list[list[str]]) -> Path:
    with path.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(HEADER)
        w.writerows(rows)
    return path


def _mapping(tmp: Path) -> Path:
    path = tmp / "mapping.json"
    path.write_text(
        json.dumps(
            {
                "handles": {"email": "Email", "phone": "Phone"},
                "name": ["First name", "Last name"],
                "lists": "Segments",
                "custom_fields": {"Seats": "Seats", "Plan": "Plan"},
            }
        )
    )
    return path


def _fields(company: Company) -> None:
    for name, kind in (("Seats", "number"), ("Plan", "string")):
        body = {"object_type": "contact", "name": name, "type": kind}
        company.api.ok("POST", "/porch/custom_fields", 201, json=body)


def _sync(
    company: Company, source: Path, tmp: Path, *extra: str, wait: bool = True
) -> subprocess.CompletedProcess[str] | subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PORCH_")}
    env["PORCH_TOKEN"] = company.token()
    cmd = [str(PORCH), "contacts", "sync", str(source), "--base-url", company.server.url]
    cmd += ["--mapping", str(_mapping(tmp)), "--state", str(tmp / "state.json"), *extra]
    if not wait:
        return subprocess.Popen(
            cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
    return subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=900)


def _summary(done: Any) -> str:
    return str(done.stdout).strip().splitlines()[-1]


def _writes(company: Company) -> int:
    """How many contact writes the event log holds."""
    total = 0
    for kind in ("contact_created", "contact_updated", "contact_handle_added"):
        events = company.api.all_pages("/porch/events", **{"q[types]": kind, "limit": 100})
        total += len(events)
    return total


@pytest.fixture
def porch_cli() -> None:
    if not PORCH.exists():
        pytest.skip(f"the porch console script is not installed next to {sys.executable}")


def test_ten_thousand_then_changes_then_nothing(
    porch_cli: None, dunder_mifflin: Company, tmp_path: Path
) -> None:
    if dunder_mifflin.server.backend != "sqlite":
        pytest.skip("the 10,000-row run is on SQLite; PostgreSQL runs the smaller cases")
    _fields(dunder_mifflin)
    first = _write(tmp_path / "crm.csv", [_row(n) for n in range(ROWS)])
    done = _sync(dunder_mifflin, first, tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    assert _summary(done) == "10,000 created, 0 updated, 0 unchanged, 0 failed"
    api = dunder_mifflin.api
    jan = api.ok("GET", "/contacts/alt:email:customer5@example.com")
    assert jan["name"] == "Ben Garcia"
    assert {(h["source"], h["handle"]) for h in jan["handles"]} == {
        ("email", "customer5@example.com"),
        ("phone", "+14155550005"),
    }
    assert jan["custom_fields"] == {"Seats": 15, "Plan": "growth"}
    assert [g["name"] for g in jan["lists"]] == ["Segment 5"]

    # 1,000 rows changed and 100 broken ones added.
    broken = [
        ["not-an-email", "X", "Y", "", "", "1", "starter"],
        ["ok@example.org", "X", "Y", "555-NOT-A-PHONE-NUMBER-AT-ALL", "", "1", "starter"],
        ["", "No", "Email", "", "", "1", "starter"],
        ["seats@example.org", "X", "Y", "", "", "many", "starter"],
    ]
    rows = [_row(n, changed=n % 10 == 0) for n in range(ROWS)]
    rows += [broken[i % 4][:] for i in range(100)]
    for i, row in enumerate(rows[ROWS:]):
        if row[0] and "@" in row[0]:
            row[0] = row[0].replace("@", f"{i}@")
    second = _write(tmp_path / "crm2.csv", rows)
    done = _sync(dunder_mifflin, second, tmp_path, "--failures", str(tmp_path / "failed.csv"))
    assert done.returncode == 3, done.stderr[-2000:]
    assert _summary(done) == "0 created, 1,000 updated, 9,000 unchanged, 100 failed"
    with (tmp_path / "failed.csv").open() as f:
        failed = list(csv.DictReader(f))
    assert len(failed) == 100 and {int(r["row"]) for r in failed} == set(
        range(ROWS + 1, ROWS + 101)
    )
    assert any("not an email" in r["reason"] for r in failed)
    assert any("not a phone" in r["reason"] for r in failed)
    assert any("not a number" in r["reason"] for r in failed)
    assert api.ok("GET", "/contacts/alt:email:customer10@example.com")["name"] == "Cleo Ng Jr"

    # The same file again: nothing to write, and nothing written.
    before = _writes(dunder_mifflin)
    done = _sync(dunder_mifflin, second, tmp_path)
    assert _summary(done) == "0 created, 0 updated, 10,000 unchanged, 100 failed"
    assert _writes(dunder_mifflin) == before


def test_an_interrupted_run_resumes_without_duplicates(
    porch_cli: None, dunder_mifflin: Company, tmp_path: Path
) -> None:
    _fields(dunder_mifflin)
    # Enough rows that the run is still going when it first saves its progress (every 2 s).
    rows = 6000
    source = _write(tmp_path / "crm.csv", [_row(n) for n in range(rows)])
    running = _sync(dunder_mifflin, source, tmp_path, wait=False)
    assert isinstance(running, subprocess.Popen)
    deadline = time.monotonic() + 120
    progress = tmp_path / "state.json.progress"
    while time.monotonic() < deadline:
        if progress.exists() and json.loads(progress.read_text()).get("below", 1) > 100:
            break
        time.sleep(0.05)
    running.send_signal(signal.SIGKILL)
    running.communicate(timeout=30)
    assert running.returncode == -signal.SIGKILL, "the first run ended before it was killed"
    done = _sync(dunder_mifflin, source, tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    summary = _summary(done)
    assert "0 failed" in summary and "already done" in summary, summary
    contacts = dunder_mifflin.api.all_pages("/contacts", limit=100)
    emails = [h["handle"] for c in contacts for h in c["handles"] if h["source"] == "email"]
    assert len(emails) == len(set(emails)) == rows


def test_a_small_rate_limit_slows_it_down_and_loses_nothing(
    porch_cli: None, dunder_mifflin: Company, tmp_path: Path
) -> None:
    if dunder_mifflin.server.backend != "sqlite":
        pytest.skip("the limits are the same on both databases; one minute's wait is enough")
    _fields(dunder_mifflin)
    dunder_mifflin.api.ok("PATCH", "/porch/company", 200, json={"rate_limit_per_minute": 120})
    rows = 150
    source = _write(tmp_path / "crm.csv", [_row(n) for n in range(rows)])
    # When the budget of this minute's window is renewed (epoch seconds).
    reset = float(dunder_mifflin.api.get("/me").headers["x-ratelimit-reset"])
    done = _sync(dunder_mifflin, source, tmp_path, "--concurrency", "4")
    assert done.returncode == 0, done.stderr[-2000:]
    assert _summary(done) == "150 created, 0 updated, 0 unchanged, 0 failed"
    # 150 writes under 120 a minute: it had to wait for the next window.
    assert time.time() >= reset
    dunder_mifflin.api.ok("PATCH", "/porch/company", 200, json={"rate_limit_per_minute": 100_000})
    assert len(dunder_mifflin.api.all_pages("/contacts", limit=100)) == rows


def test_dry_run_writes_nothing(porch_cli: None, dunder_mifflin: Company, tmp_path: Path) -> None:
    _fields(dunder_mifflin)
    source = _write(tmp_path / "crm.csv", [_row(n) for n in range(20)])
    done = _sync(dunder_mifflin, source, tmp_path, "--dry-run")
    assert done.returncode == 0, done.stderr
    assert _summary(done) == "20 would be created, 0 would be updated, 0 unchanged, 0 failed"
    assert dunder_mifflin.api.all_pages("/contacts", limit=100) == []


def test_a_shared_phone_number_stays_with_its_first_contact(
    porch_cli: None, dunder_mifflin: Company, tmp_path: Path
) -> None:
    _fields(dunder_mifflin)
    # Two people behind one switchboard number, and a third with a number of their own.
    rows = [_row(0), _row(5), _row(10)]
    rows[1][3] = rows[0][3] = "+14155550100"
    source = _write(tmp_path / "crm.csv", rows)
    done = _sync(dunder_mifflin, source, tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    assert _summary(done) == (
        "3 created, 0 updated, 0 unchanged, 0 failed (1 handles held by other contacts left out)"
    )
    assert "phone +14155550100 belongs to crd_" in done.stderr
    api = dunder_mifflin.api
    holder = api.ok("GET", "/contacts/alt:phone:+14155550100")
    emails = [h["handle"] for h in holder["handles"] if h["source"] == "email"]
    assert emails in (["customer0@example.com"], ["customer5@example.com"])
    for n in (0, 5, 10):
        assert api.ok("GET", f"/contacts/alt:email:customer{n}@example.com")
    # Run again: the shared number is not moved back and forth.
    before = _writes(dunder_mifflin)
    done = _sync(dunder_mifflin, source, tmp_path)
    assert _summary(done).startswith("0 created, 0 updated, 3 unchanged, 0 failed")
    assert _writes(dunder_mifflin) == before
