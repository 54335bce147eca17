"""Channel transports: how a message leaves the building, one interface per kind."""

from app.platform.features import Feature

FEATURE = Feature(blueprints=("app.conversations.channels.routes:bp",))
