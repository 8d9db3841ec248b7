"""The administration commands: ``porch init``, ``teams``, ``teammates`` and ``tokens``.

Each test runs the installed ``porch`` console script against its own data directory (SQLite),
as an operator would, without a server.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

PORCH = Path(sys.executable).parent / "porch"


class Cli:
    """Runs ``porch`` on one data directory."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("PORCH_")}

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        # The data directory goes right after the (sub)command words: ``init``, ``teams list``.
        words = 1 if args[0] == "init" else 2
        cmd = [str(PORCH), *args[:words], "--data-dir", str(self.data_dir), *args[words:]]
        return subprocess.run(
            cmd, env=self.env, capture_output=True, text=True, timeout=120, check=False
        )

    def ok(self, *args: str) -> str:
        done = self.run(*args)
        assert done.returncode == 0, f"porch {' '.join(args)}: {done.stderr}"
        return done.stdout

    def json(self, *args: str) -> Any:
        return json.loads(self.ok(*args, "--json").strip().splitlines()[-1])

    def refused(self, *args: str) -> str:
        done = self.run(*args)
        assert done.returncode != 0, f"porch {' '.join(args)} succeeded: {done.stdout}"
        return done.stderr


@pytest.fixture
def cli(tmp_path: Path) -> Cli:
    if not PORCH.exists():
        pytest.skip(f"the porch console script is not installed next to {sys.executable}")
    return Cli(tmp_path / "data")


def test_init_creates_one_company_per_name(cli: Cli) -> None:
    first = cli.json("init", "--company", "Dunder Mifflin", "--admin-email", "michael@dm.com")
    assert first["company_id"].startswith("cmp_") and first["teammate_id"].startswith("tea_")
    assert first["token"]
    second = cli.json("init", "--company", "Vance Refrigeration")
    assert second["company_id"] != first["company_id"]
    assert "already exists" in cli.refused("init", "--company", "Dunder Mifflin")
    # With two companies, every command must say which one it means.
    assert "--company" in cli.refused("teams", "list")
    dm = cli.json("teams", "list", "--company", "Dunder Mifflin")
    vance = cli.json("teams", "list", "--company", second["company_id"])
    assert [t["name"] for t in dm] == ["Dunder Mifflin"]
    assert [t["name"] for t in vance] == ["Vance Refrigeration"]
    assert "no company" in cli.refused("teams", "list", "--company", "Staples")
    assert "no company" in cli.refused("teams", "list", "--company", "cmp_zzzz")


def test_teams_create_and_list(cli: Cli) -> None:
    cli.json("init", "--company", "Dunder Mifflin")
    sales = cli.json("teams", "create", "--name", "Sales")
    assert sales["id"].startswith("tim_") and sales["name"] == "Sales"
    assert "Accounting" in cli.ok("teams", "create", "--name", "Accounting")
    assert "already exists" in cli.refused("teams", "create", "--name", "Sales")
    listed = cli.json("teams", "list")
    assert [t["name"] for t in listed] == ["Dunder Mifflin", "Sales", "Accounting"]
    assert listed[1] == sales
    assert sales["id"] in cli.ok("teams", "list")


def test_teammates_create_and_list(cli: Cli) -> None:
    cli.json("init", "--company", "Dunder Mifflin", "--admin-email", "michael@dm.com")
    sales = cli.json("teams", "create", "--name", "Sales")
    dwight = cli.json(
        "teammates",
        "create",
        "--email",
        "Dwight@DM.com",
        "--first-name",
        "Dwight",
        "--last-name",
        "Schrute",
        "--team",
        sales["id"],
        "--allow-private-api-access",
    )
    assert dwight["email"] == "dwight@dm.com" and dwight["username"] == "dwight"
    assert dwight["team_ids"] == [sales["id"]]
    assert dwight["is_admin"] is False and dwight["allow_private_api_access"] is True
    jan = cli.json("teammates", "create", "--email", "jan@dm.com", "--username", "jan_l", "--admin")
    assert jan["is_admin"] is True and jan["team_ids"] == [] and jan["username"] == "jan_l"
    assert "already exists" in cli.refused("teammates", "create", "--email", "dwight@dm.com")
    assert "taken" in cli.refused(
        "teammates", "create", "--email", "other@dm.com", "--username", "dwight"
    )
    assert cli.refused("teammates", "create", "--email", "not-an-email")
    assert "tim_zzzz" in cli.refused(
        "teammates", "create", "--email", "a@dm.com", "--team", "tim_zzzz"
    )
    assert cli.refused("teammates", "create", "--email", "b@dm.com", "--username", "Bad Name")
    listed = cli.json("teammates", "list")
    assert [t["email"] for t in listed] == ["michael@dm.com", "dwight@dm.com", "jan@dm.com"]
    assert listed[1] == dwight
    assert "dwight@dm.com" in cli.ok("teammates", "list")


def test_tokens_create_list_revoke(cli: Cli) -> None:
    cli.json("init", "--company", "Dunder Mifflin")
    sales = cli.json("teams", "create", "--name", "Sales")
    made = cli.json(
        "tokens",
        "create",
        "--name",
        "warehouse",
        "--namespace",
        f"team:{sales['id']}",
        "--permission",
        "read",
    )
    assert made["token"] and made["namespaces"] == [f"team:{sales['id']}"]
    assert made["permissions"] == ["read"]
    listed = {t["id"]: t for t in cli.json("tokens", "list")}
    assert set(listed) >= {made["id"]} and len(listed) == 2
    assert listed[made["id"]]["revoked_at"] is None
    assert "token" not in listed[made["id"]]
    cli.ok("tokens", "revoke", made["id"])
    after = {t["id"]: t for t in cli.json("tokens", "list")}
    assert after[made["id"]]["revoked_at"] is not None
    assert "revoked" in cli.ok("tokens", "list")
    assert cli.refused("tokens", "revoke", "nonsense")
