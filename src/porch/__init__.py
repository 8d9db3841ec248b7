"""Porch: a self-hosted shared inbox that speaks Front's public API."""

__version__ = "0.1.0"
