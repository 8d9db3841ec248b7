"""Syncs that only speak the public API, so they work against Porch and against Front itself:
``contacts`` brings a CRM's contacts in."""
