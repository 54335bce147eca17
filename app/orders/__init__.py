"""Orders: the status engine and the order API."""

from app.features import Feature

FEATURE = Feature(
    blueprints=("app.orders.api:bp", "app.orders.routes:bp"),
    # Customer notices on milestones and Teams alerts for urgent orders.
    status_hooks=("app.orders.milestones:on_status_change",),
)
