"""The /api/v1/external/* endpoints: send WhatsApp and e-mail on request."""

from app.platform.features import Feature

FEATURE = Feature(blueprints=("app.orders.external.routes:bp",))
