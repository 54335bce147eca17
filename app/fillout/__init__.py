"""Fillout forms: intake submissions become customers, addresses and preliminary orders."""

from app.platform.features import Feature

FEATURE = Feature(
    blueprints=("app.fillout.routes:bp", "app.fillout.admin:bp"),
    webhook_processors={"fillout": "app.fillout.processing:process_event"},
)
