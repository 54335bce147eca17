"""The unified inbox: every conversation, newest first."""

from app.platform.features import Feature

FEATURE = Feature(blueprints=("app.inbox.routes:bp", "app.inbox.saved_view_routes:bp"))
