"""Webhooks in the store (tables in migration 0016), in three parts.

``subscriptions`` (who is sent what, where, and the API secret rule webhooks are signed with),
``outbox`` (deliveries queued, claimed by the worker and their outcomes recorded) and
``delivery_log`` (the deliveries and attempts an admin reads, and replays).
"""
