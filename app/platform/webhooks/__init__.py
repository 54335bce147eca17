"""Inbound webhooks: stored raw first, processed by jobs, re-runnable by admins."""

from app.platform.features import Feature
from app.platform.jobs.periodic import PeriodicJob

FEATURE = Feature(
    blueprints=("app.platform.webhooks.routes:bp",),
    periodic_jobs=(
        # Every 10 s: an event whose worker died is taken up again within its
        # lease (PROCESSING_LEASE_SECONDS) plus 10 s; a lost hand-off after
        # STALLED_HANDOFF_SECONDS (60 s).
        PeriodicJob(
            "stalled-webhook-events",
            "app.platform.webhooks.processing.requeue_stalled_events",
            every_seconds=10,
        ),
    ),
)
