"""Partners: organizations that send us orders and hear back about them."""

from app.features import Feature

FEATURE = Feature(
    blueprints=(
        "app.partners.routes:bp",
        "app.partners.api:bp",
        "app.partners.webhook_routes:bp",
    ),
    webhook_processors={"partner_status": "app.partners.status_webhook:process_event"},
    # Seed 001: commission records per channel level when an order completes.
    status_hooks=("app.partners.commissions:on_status_change",),
)
