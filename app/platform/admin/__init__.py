"""Administration pages (admins only)."""

from app.platform.features import Feature

FEATURE = Feature(
    blueprints=(
        "app.platform.admin.web.routes:bp",
        "app.platform.admin.web.tokens:bp",
        "app.platform.admin.web.queue:bp",
    )
)
