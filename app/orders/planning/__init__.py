"""Planning visits: the order page's plan, the week board, technicians' hours, proposals."""

from app.platform.features import Feature

FEATURE = Feature(
    blueprints=("app.orders.planning.routes:bp", "app.orders.planning.proposals.routes:bp")
)
