"""Fillout forms: intake submissions become customers, addresses and preliminary orders."""

from app.platform.features import Feature

FEATURE = Feature(
    blueprints=("app.orders.fillout.web.routes:bp", "app.orders.fillout.web.forms:bp"),
    webhook_processors={"fillout": "app.orders.fillout.processing:process_event"},
)
