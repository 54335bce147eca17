"""Files kept beside messages: storing them and handing them to people allowed to see them."""

from app.platform.features import Feature

FEATURE = Feature(blueprints=("app.conversations.attachments.routes:bp",))
