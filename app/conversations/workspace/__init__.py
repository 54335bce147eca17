"""A conversation: the thread page, the composer, and sending replies."""

from app.platform.features import Feature

FEATURE = Feature(
    blueprints=(
        "app.conversations.workspace.web.routes:bp",
        "app.conversations.workspace.web.customer:bp",
        "app.conversations.workspace.web.api:bp",
        "app.conversations.workspace.web.composer_templates:bp",
        "app.conversations.workspace.web.composer:bp",
        "app.conversations.workspace.web.suggestions:bp",
        "app.conversations.workspace.web.snooze:bp",
        "app.conversations.workspace.web.bulk:bp",
        "app.conversations.workspace.web.calls:bp",
        "app.conversations.workspace.web.calls:api_bp",
    ),
    listeners=("app.conversations.workspace.listeners",),
)
