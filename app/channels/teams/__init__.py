"""Microsoft Teams alerts as Adaptive Cards posted to Workflows webhooks."""
