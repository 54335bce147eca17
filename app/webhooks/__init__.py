"""Inbound webhooks: stored raw first, processed by jobs, re-runnable by admins."""
