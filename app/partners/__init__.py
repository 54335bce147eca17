"""Partners: organizations that send us orders and hear back about them."""

from app.platform.features import Feature, HookPhase, StatusHook
from app.platform.jobs.periodic import PeriodicJob

FEATURE = Feature(
    blueprints=(
        "app.partners.routes:bp",
        "app.partners.key_routes:bp",
        "app.partners.api:bp",
        "app.partners.order_api:bp",
        "app.partners.webhook_routes:bp",
        "app.partners.portal_user_routes:bp",
    ),
    webhook_processors={"partner_status": "app.partners.status_webhook:process_event"},
    # Commission records per channel level when an order completes.
    status_hooks=(StatusHook("app.partners.commissions:on_status_change", HookPhase.EARN),),
    periodic_jobs=(
        # Idempotency-Key answers are kept 24 hours (app.partners.idempotency).
        PeriodicJob(
            "expired-idempotency-keys",
            "app.partners.idempotency.delete_expired_keys",
            every_seconds=3600,
        ),
    ),
)
