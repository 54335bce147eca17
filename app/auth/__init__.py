"""Sign-in (password, Microsoft), roles and API tokens."""

from app.features import Feature

FEATURE = Feature(blueprints=("app.auth.routes:bp", "app.auth.microsoft_routes:bp"))
