"""The API's own documentation: OpenAPI 3.1 at /api/v1/openapi.json and /api/docs.

Above the features it documents: it reads their request and answer models.
"""

from app.platform.features import Feature

FEATURE = Feature(blueprints=("app.integrations.api_docs.routes:bp",))
