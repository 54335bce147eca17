"""The partner portal (/portal): a partner's people see their orders, callbacks, keys, webhook."""

from app.platform.features import Feature

FEATURE = Feature(
    blueprints=(
        "app.orders.portal.web.routes:bp",
        "app.orders.portal.web.settings:bp",
        "app.orders.portal.web.welcome:bp",
    ),
    # Partner users reach the portal only; staff never reach it.
    init_app="app.orders.portal.confinement:init_app",
)
