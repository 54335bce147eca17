"""SLA engine: business time, policies, the per-thread clock and the escalation ladder."""

from app.platform.features import Feature
from app.platform.jobs.periodic import PeriodicJob

FEATURE = Feature(
    blueprints=("app.conversations.sla.routes:bp",),
    periodic_jobs=(
        # Every 15 s, so an escalation-ladder alert goes out within 60 s of its moment.
        PeriodicJob("sla-ladder", "app.conversations.sla.ladder.scan", every_seconds=15),
    ),
)
