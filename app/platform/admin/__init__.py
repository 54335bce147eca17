"""Administration pages (admins only)."""

from app.platform.features import Feature

FEATURE = Feature(
    blueprints=(
        "app.platform.admin.routes:bp",
        "app.platform.admin.token_routes:bp",
        "app.platform.admin.queue_routes:bp",
    )
)
