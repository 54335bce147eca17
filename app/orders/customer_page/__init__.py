"""The customer's own page of their order (/t/<token>): stage, visit, arrival, photos, report."""

from app.platform.features import Feature

FEATURE = Feature(
    blueprints=(
        "app.orders.customer_page.routes:bp",
        "app.orders.customer_page.routes:desk_bp",
        "app.orders.customer_page.photo_routes:bp",
        "app.orders.customer_page.photo_review_routes:bp",
    )
)
