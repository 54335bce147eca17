"""E-mail signatures: each agent's own and each mailbox's, added under e-mail replies."""

from app.platform.features import Feature

FEATURE = Feature(blueprints=("app.signatures.routes:bp",))
