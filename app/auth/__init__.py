"""Sign-in (password, Microsoft), sessions, two-factor authentication, roles and API tokens."""

from app.features import Feature

FEATURE = Feature(
    blueprints=(
        "app.auth.routes:bp",
        "app.auth.microsoft_routes:bp",
        "app.auth.settings_routes:bp",
        "app.auth.preferences_routes:bp",
    ),
    init_app="app.auth.signin:init_app",
)
