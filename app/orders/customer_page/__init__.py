"""The customer's own page of their order (/t/<token>): stage, visit, arrival, photos, report."""

from app.platform.features import Feature

FEATURE = Feature(
    blueprints=(
        "app.orders.customer_page.web.routes:bp",
        "app.orders.customer_page.web.routes:desk_bp",
        "app.orders.customer_page.web.photos:bp",
        "app.orders.customer_page.web.photo_review:bp",
    )
)
