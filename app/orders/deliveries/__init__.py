"""Outbound webhooks: an outbox of deliveries, signed, retried and logged."""

from app.platform.features import Feature, HookPhase, StatusHook
from app.platform.jobs.periodic import PeriodicJob

FEATURE = Feature(
    # Pages show a delivery's failure in the reader's language ("delivery_error").
    init_app="app.orders.deliveries.log:init_app",
    status_hooks=(
        # The partner's signed status callback, via the outbox.
        StatusHook(
            "app.orders.deliveries.partner_callbacks:on_status_change", HookPhase.TELL_PARTNER
        ),
        # Make.com scenarios subscribed to order events.
        StatusHook("app.orders.deliveries.make:on_status_change", HookPhase.TELL_PARTNER),
    ),
    periodic_jobs=(
        PeriodicJob(
            "stalled-deliveries",
            "app.orders.deliveries.jobs.requeue_stalled_deliveries",
            every_seconds=60,
        ),
    ),
)
