"""Sign-in (password, Microsoft), sessions, two-factor authentication, roles and API tokens."""

from app.platform.features import Feature

FEATURE = Feature(
    blueprints=(
        "app.platform.auth.web.routes:bp",
        "app.platform.auth.web.microsoft:bp",
        "app.platform.auth.web.settings:bp",
        "app.platform.auth.web.preferences:bp",
    ),
    init_app="app.platform.auth.signin:init_app",
)
