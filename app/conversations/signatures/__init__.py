"""E-mail signatures: each agent's own and each mailbox's, added under e-mail replies."""

from app.platform.features import Feature

FEATURE = Feature(blueprints=("app.conversations.signatures.routes:bp",))
