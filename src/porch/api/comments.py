"""Placeholder: filled in by its own commit."""

from __future__ import annotations

from porch.api.routing import Routes

routes = Routes()
