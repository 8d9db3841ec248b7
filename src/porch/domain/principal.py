"""Who is calling: a company, and what the token lets it reach.

Front's token scopes are namespaces (shared resources, private resources, provisioning, or a
single team) crossed with permissions (read, write, delete, send). A resource outside the
token's namespaces is invisible (404); an operation needing a permission the token lacks is
forbidden (403).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from porch.domain.errors import Forbidden

PERMISSIONS = ("read", "write", "delete", "send")
NAMESPACES = ("shared", "private", "provisioning")


@dataclass(frozen=True, slots=True)
class Principal:
    """The authenticated caller of one request."""

    company_id: int
    token_id: int | None
    shared: bool
    private: bool
    provisioning: bool
    team_ids: frozenset[int]
    permissions: frozenset[str]
    rate_limit_per_minute: int
    rate_limit_burst: bool
    # Which rate-limit bucket the caller draws from: "api" tokens or "oauth" apps.
    bucket: str = "api"
    # Set when a rule acts (porch.events.rules): its changes are logged with the rule as source.
    rule_id: int | None = None
    # Set when a partner authenticates with a Channel API JWT: the one channel it may act on.
    partner_channel_id: int | None = None
    _vis: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        self._vis.update(
            company=self.shared or self.provisioning or bool(self.team_ids),
            shared=self.shared or self.provisioning,
            private=self.private,
            team_ids=sorted(self.team_ids),
            # A channel JWT sees the conversations of its channel (store.conversations.visible).
            partner=self.partner_channel_id is not None,
            partner_channel=self.partner_channel_id or 0,
        )

    def require(self, permission: str) -> None:
        """Raise Forbidden unless the token carries ``permission``."""
        if permission not in self.permissions:
            raise Forbidden(f"This token does not have the {permission} permission")

    def require_shared(self) -> None:
        """Raise Forbidden unless the token reaches company-wide shared resources."""
        if not self.shared:
            raise Forbidden("This token does not have access to shared resources")

    def require_provisioning(self) -> None:
        if not self.provisioning:
            raise Forbidden("This token does not have the provisioning scope")

    def sees_team(self, team_id: int) -> bool:
        return self.shared or self.provisioning or team_id in self.team_ids

    def visibility(self) -> dict[str, Any]:
        """Query parameters for ``porch.store.visibility.owned_by_visible``."""
        return self._vis
