"""Make.com: inbound scenarios posting orders, visits, payments and feedback."""

from app.platform.features import Feature

FEATURE = Feature(
    blueprints=("app.orders.make.routes:bp",),
    webhook_processors={"make": "app.orders.make.inbound:process_event"},
)
