"""SLA engine: business time, policies, the per-thread clock and the escalation ladder."""
