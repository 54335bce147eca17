"""Orders: the status engine and the order API."""

from app.platform.features import Feature, HookPhase, StatusHook

FEATURE = Feature(
    blueprints=("app.orders.api:bp", "app.orders.routes:bp", "app.orders.review_routes:bp"),
    # Customer notices on milestones and Teams alerts for urgent orders.
    # The desk's count of orders waiting for a person, live and on the menu item.
    status_hooks=(
        StatusHook("app.orders.milestones:on_status_change", HookPhase.FOLLOW),
        StatusHook("app.orders.waiting:on_status_change", HookPhase.FOLLOW),
    ),
    init_app="app.orders.waiting:init_app",
)
