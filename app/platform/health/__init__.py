"""Liveness and readiness probes for load balancers and orchestrators."""

from app.platform.features import Feature

FEATURE = Feature(blueprints=("app.platform.health.routes:bp",))
