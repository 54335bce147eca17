"""The technician's phone view."""

from app.features import Feature

FEATURE = Feature(blueprints=("app.mobile.routes:bp",))
