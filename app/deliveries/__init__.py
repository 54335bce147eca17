"""Outbound webhooks: an outbox of deliveries, signed, retried and logged."""

from app.features import Feature
from app.jobs.periodic import PeriodicJob

FEATURE = Feature(
    status_hooks=(
        # The partner's signed status callback, via the outbox.
        "app.deliveries.partner_callbacks:on_status_change",
        # Make.com scenarios subscribed to order events.
        "app.deliveries.make:on_status_change",
    ),
    periodic_jobs=(
        PeriodicJob(
            "stalled-deliveries",
            "app.deliveries.jobs.requeue_stalled_deliveries",
            every_seconds=60,
        ),
    ),
)
