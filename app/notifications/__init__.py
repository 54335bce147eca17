"""In-app notifications (seed 000) and their live delivery."""

from app.features import Feature

FEATURE = Feature(blueprints=("app.notifications.routes:bp", "app.notifications.api:bp"))
