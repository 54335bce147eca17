"""Sign-in, roles and API tokens."""

from app.features import Feature

FEATURE = Feature(blueprints=("app.auth.routes:bp",))
