"""In-app notifications and their live delivery.

Its listeners tell people about their conversations: a customer's reply, a
thread assigned to them, an @mention in a note (:mod:`app.conversations.notifications.listeners`).
"""

from app.platform.features import Feature

FEATURE = Feature(
    blueprints=(
        "app.conversations.notifications.routes:bp",
        "app.conversations.notifications.api:bp",
    ),
    listeners=("app.conversations.notifications.listeners",),
)
