"""Outbound webhooks: an outbox of deliveries, signed, retried and logged."""
