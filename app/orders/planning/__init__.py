"""Planning visits: the order page's plan, the week board, technicians' hours, proposals,
and the best slots for one order."""

from app.platform.features import Feature

FEATURE = Feature(
    blueprints=(
        "app.orders.planning.routes:bp",
        "app.orders.planning.proposals.routes:bp",
        "app.orders.planning.slots.routes:bp",
    ),
    # The conversation's customer panel loads its order's best slots from here
    # (app.conversations.order_hooks).
    offers={"orders.slots_url": "app.orders.planning.slots.panel:slots_url"},
)
