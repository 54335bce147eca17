"""Sign-in (password, Microsoft), sessions, two-factor authentication, roles and API tokens."""

from app.platform.features import Feature

FEATURE = Feature(
    blueprints=(
        "app.platform.auth.routes:bp",
        "app.platform.auth.microsoft_routes:bp",
        "app.platform.auth.settings_routes:bp",
        "app.platform.auth.preferences_routes:bp",
    ),
    init_app="app.platform.auth.signin:init_app",
)
