"""SLA escalation: the ladder that warns, escalates and reports breaches, its alerts,
and the /admin/sla page. Business calendars, policies and each thread's clock are
:mod:`app.conversations.business_time`'s."""

from app.platform.features import Feature
from app.platform.jobs.periodic import PeriodicJob

FEATURE = Feature(
    blueprints=("app.conversations.sla.routes:bp",),
    periodic_jobs=(
        # Every 15 s, so an escalation-ladder alert goes out within 60 s of its moment.
        PeriodicJob("sla-ladder", "app.conversations.sla.ladder.scan", every_seconds=15),
    ),
)
