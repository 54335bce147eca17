"""The unified inbox: every conversation, newest first."""

from app.platform.features import Feature

FEATURE = Feature(
    blueprints=(
        "app.conversations.inbox.web.routes:bp",
        "app.conversations.inbox.web.saved_views:bp",
    )
)
