"""Partners: organizations that send us orders and hear back about them."""

from app.platform.features import Feature, HookPhase, StatusHook
from app.platform.jobs.periodic import PeriodicJob

FEATURE = Feature(
    blueprints=(
        "app.orders.partners.web.routes:bp",
        "app.orders.partners.web.keys:bp",
        "app.orders.partners.web.api:bp",
        "app.orders.partners.web.order_api:bp",
        "app.orders.partners.web.webhooks:bp",
        "app.orders.partners.web.portal_users:bp",
    ),
    webhook_processors={"partner_status": "app.orders.partners.status_webhook:process_event"},
    # Commission records per channel level when an order completes.
    status_hooks=(StatusHook("app.orders.partners.commissions:on_status_change", HookPhase.EARN),),
    periodic_jobs=(
        # Idempotency-Key answers are kept 24 hours (app.orders.partners.idempotency).
        PeriodicJob(
            "expired-idempotency-keys",
            "app.orders.partners.idempotency.delete_expired_keys",
            every_seconds=3600,
        ),
    ),
)
