"""Orders: the status engine and the order API."""

from app.platform.features import Feature, HookPhase, StatusHook

FEATURE = Feature(
    blueprints=(
        "app.orders.core.web.api:bp",
        "app.orders.core.web.routes:bp",
        "app.orders.core.web.review:bp",
    ),
    # Customer notices on milestones and Teams alerts for urgent orders.
    # The desk's count of orders waiting for a person, live and on the menu item.
    status_hooks=(
        StatusHook("app.orders.core.milestones:on_status_change", HookPhase.FOLLOW),
        StatusHook("app.orders.core.waiting:on_status_change", HookPhase.FOLLOW),
        # A completed order's visits are all done, however it was completed.
        StatusHook("app.orders.core.visits:on_status_change", HookPhase.FOLLOW),
    ),
    init_app="app.orders.core.waiting:init_app",
    # The conversation's pages show orders through these (app.conversations.order_hooks).
    offers={
        "orders.order_named": "app.orders.core.search:order_named",
        "orders.count_matching": "app.orders.core.search:count_matching",
        "orders.may_view_orders": "app.orders.core.services:may_view_orders",
        "orders.may_change_status": "app.orders.core.services:may_change_status",
        "orders.is_on_the_way_template": "app.orders.core.visit_notices:is_on_the_way_template",
        "orders.claim_visit_notice": "app.orders.core.visit_notices:claim_for_template",
        "orders.record_notice_message": "app.orders.core.visit_notices:record_notice_message",
        "orders.invoices_of": "app.orders.invoices.views:invoices_of",
        "orders.customer_link_url": "app.orders.core.customer_links:customer_link_url",
    },
)
