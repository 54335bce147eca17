"""Administration pages (admins only)."""

from app.features import Feature

FEATURE = Feature(
    blueprints=(
        "app.admin.routes:bp",
        "app.admin.token_routes:bp",
        "app.admin.queue_routes:bp",
    )
)
