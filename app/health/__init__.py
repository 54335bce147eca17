"""Liveness and readiness probes for load balancers and orchestrators."""

from app.features import Feature

FEATURE = Feature(blueprints=("app.health.routes:bp",))
