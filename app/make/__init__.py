"""Make.com: inbound scenarios posting orders, visits, payments and feedback."""

from app.platform.features import Feature

FEATURE = Feature(
    blueprints=("app.make.routes:bp",),
    webhook_processors={"make": "app.make.inbound:process_event"},
)
