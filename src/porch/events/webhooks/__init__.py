"""Webhooks fed by the event log: application webhooks (a consumer that fans events out to the
apps subscribing to them) and rule webhooks (queued by the rules engine with
``enqueue_rule_webhook``). Both land in the durable delivery outbox (``webhook_deliveries``)
that ``porch.workers.webhooks`` delivers."""

from porch.events.webhooks.queue import AppWebhooks, enqueue_rule_webhook

__all__ = ["AppWebhooks", "enqueue_rule_webhook"]
