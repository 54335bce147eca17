"""The partner portal (/portal): a partner's people see their orders, callbacks, keys, webhook."""

from app.platform.features import Feature

FEATURE = Feature(
    blueprints=(
        "app.portal.routes:bp",
        "app.portal.settings_routes:bp",
        "app.portal.welcome_routes:bp",
    ),
    # Partner users reach the portal only; staff never reach it.
    init_app="app.portal.confinement:init_app",
)
