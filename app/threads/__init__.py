"""A conversation: the thread page, the composer, and sending replies."""

from app.platform.features import Feature

FEATURE = Feature(
    blueprints=(
        "app.threads.routes:bp",
        "app.threads.customer_routes:bp",
        "app.threads.api:bp",
        "app.threads.composer_templates:bp",
        "app.threads.composer_routes:bp",
        "app.threads.suggestion_routes:bp",
        "app.threads.snooze_routes:bp",
        "app.threads.bulk_routes:bp",
        "app.threads.call_routes:bp",
        "app.threads.call_routes:api_bp",
    ),
    listeners=("app.threads.listeners",),
)
