"""Message templates (``communication_template``): admin pages, rendering, API.

- ``rendering``: placeholders, the known variables, filling a template for a thread.
- ``services``: listing, validation, saving, usage counting.
- ``routes``: admin pages (``bp``) and the composer's preview (``preview_bp``).
- ``api``: ``GET/POST /api/templates``.
"""

from app.platform.features import Feature

FEATURE = Feature(
    blueprints=(
        "app.conversations.message_templates.routes:bp",
        "app.conversations.message_templates.api:bp",
        "app.conversations.message_templates.routes:preview_bp",
    )
)
