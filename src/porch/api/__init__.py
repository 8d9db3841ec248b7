"""The HTTP API: one module per Front tag, handlers named after Front's operationIds.

Front's JSON shapes live only in this package (``shapes.py`` and the modules); the domain layer
returns records and raises typed errors.
"""

from __future__ import annotations

from importlib import import_module

from porch.api.routing import Operation

MODULES = (
    "health",
    "openapi",
    "token_identity",
    "teams",
    "teammates",
    "teammate_groups",
    "inboxes",
    "channels",
    "tags",
    "custom_fields",
    "statuses",
    "events",
    "signatures",
    "conversations",
    "comments",
    "attachments",
    "links",
    "messages",
    "drafts",
    "contacts",
    "contact_lists",
    "accounts",
    "admin",
    "admin_conversations",
    "admin_channels",
    "admin_webhooks",
    "message_templates",
    "message_template_folders",
    "applications",
    "oauth",
    "admin_oauth",
    "channel_api",
    "channel_api_calls",
    "channel_api_templates",
    "admin_partner_channels",
    "rules",
)


def all_routes() -> list[Operation]:
    """Every operation of every API module, in module order."""
    ops: list[Operation] = []
    for name in MODULES:
        module = import_module(f"porch.api.{name}")
        ops.extend(module.routes.operations)
    return ops
