"""Companies: creating one with its admin teammate, first token and default statuses."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from porch.domain import tokens
from porch.domain.errors import BadRequest
from porch.events import log
from porch.store import crud
from porch.store.db import Database, Query
from porch.store.tables import companies, statuses, team_members, teammates, teams
from porch.timeutil import now_ms

DEFAULT_STATUSES = (
    ("Open", "open", "New or currently being worked on"),
    ("Waiting", "waiting", "Waiting on the customer or a third party"),
    ("Resolved", "resolved", "Done"),
)

_GET = Query(sa.select(companies).where(companies.c.id == sa.bindparam("key")))
_BY_NAME = Query(sa.select(companies.c.id).where(companies.c.name == sa.bindparam("name")))


@dataclass(frozen=True, slots=True)
class NewCompany:
    company_id: int
    teammate_id: int
    team_id: int
    token_id: int
    token: str


@dataclass(frozen=True, slots=True)
class Company:
    id: int
    name: str
    ticketing_enabled: bool
    rate_limit_per_minute: int
    rate_limit_burst: bool
    allow_private_webhook_targets: bool = False


async def get(db: Database, *, company_id: int) -> Company:
    row = await db.fetch_one(_GET, key=company_id)
    assert row is not None, "a principal's company exists"
    return Company(
        row["id"],
        row["name"],
        bool(row["ticketing_enabled"]),
        row["rate_limit_per_minute"],
        bool(row["rate_limit_burst"]),
        bool(row["allow_private_webhook_targets"]),
    )


async def find_by_name(db: Database, *, name: str) -> int | None:
    row = await db.fetch_one(_BY_NAME, name=name)
    return int(row["id"]) if row else None


def username_from_email(email: str) -> str:
    local = email.split("@", 1)[0].lower()
    return "".join(ch if ch.isalnum() else "_" for ch in local) or "admin"


async def do_create_company(
    db: Database, *, name: str, admin_email: str, rate_limit_per_minute: int
) -> NewCompany:
    """Create a company with a first team, an admin teammate in it, default ticket statuses,
    and an admin API token reaching every namespace with every permission."""
    name = name.strip()
    if not name:
        raise BadRequest("A company needs a name")
    now = now_ms()
    email = admin_email.strip().lower()
    async with db.transaction() as tx:
        company_id = await crud.insert(
            tx,
            companies,
            name=name,
            ticketing_enabled=True,
            rate_limit_per_minute=rate_limit_per_minute,
            rate_limit_burst=False,
            created_at=now,
        )
        team_id = await crud.insert(tx, teams, company_id=company_id, name=name, created_at=now)
        teammate_id = await crud.insert(
            tx,
            teammates,
            company_id=company_id,
            email=email,
            username=username_from_email(email),
            first_name="Admin",
            last_name=name,
            is_admin=True,
            is_available=True,
            is_blocked=False,
            type="user",
            license_type="regular",
            api_private_access=True,
            custom_fields="{}",
            created_at=now,
            updated_at=now,
        )
        await tx.execute(
            Query(
                sa.insert(team_members).values(
                    company_id=sa.bindparam("c"),
                    team_id=sa.bindparam("t"),
                    teammate_id=sa.bindparam("m"),
                )
            ),
            c=company_id,
            t=team_id,
            m=teammate_id,
        )
        for status_name, category, description in DEFAULT_STATUSES:
            await crud.insert(
                tx,
                statuses,
                company_id=company_id,
                name=status_name,
                category=category,
                description=description,
                is_default=True,
                created_at=now,
                updated_at=now,
            )
        token_id, secret = await tokens.insert_token(
            tx,
            company_id=company_id,
            name="admin",
            namespaces=list(tokens.ALL_NAMESPACES),
            permissions=list(tokens.ALL_PERMISSIONS),
            teammate_id=teammate_id,
        )
        await log.append(
            tx,
            company_id=company_id,
            type="company_created",
            source=log.SYSTEM,
            target_type="company",
            target_id=company_id,
            data={"name": name},
        )
    return NewCompany(company_id, teammate_id, team_id, token_id, secret)


async def do_update_settings(
    db: Database,
    *,
    company_id: int,
    source: log.Source,
    ticketing_enabled: bool | None = None,
    rate_limit_per_minute: int | None = None,
    rate_limit_burst: bool | None = None,
    allow_private_webhook_targets: bool | None = None,
) -> Company:
    """Change a company's settings (ticketing, rate-limit budget and burst tiers)."""
    values: dict[str, object] = {}
    if ticketing_enabled is not None:
        values["ticketing_enabled"] = ticketing_enabled
    if rate_limit_per_minute is not None:
        if not 1 <= rate_limit_per_minute <= 10_000_000:
            raise BadRequest("rate_limit_per_minute must be between 1 and 10000000")
        values["rate_limit_per_minute"] = rate_limit_per_minute
    if rate_limit_burst is not None:
        values["rate_limit_burst"] = rate_limit_burst
    if allow_private_webhook_targets is not None:
        values["allow_private_webhook_targets"] = allow_private_webhook_targets
    async with db.transaction() as tx:
        await crud.update(tx, companies, company_id=company_id, key=company_id, **values)
        await log.append(
            tx,
            company_id=company_id,
            type="company_updated",
            source=source,
            target_type="company",
            target_id=company_id,
            data=values,
        )
    return await get(db, company_id=company_id)
