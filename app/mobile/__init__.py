"""The technician's phone view."""

from app.features import Feature

FEATURE = Feature(
    blueprints=("app.mobile.routes:bp", "app.mobile.offline:bp"),
    listeners=("app.mobile.listeners",),
    init_app="app.mobile.offline:init_app",
)
