"""The partner sandbox: test keys, test orders and their timeline.

``mode`` says whether a caller is in test mode and keeps the two modes apart
(order numbers, idempotency keys); ``moves`` moves a test order through our
statuses by the real status engine; ``timeline`` runs those moves on a clock
as RQ jobs; ``api`` is the partner API's ``/sandbox`` endpoints.
"""

from app.platform.features import Feature

FEATURE = Feature(blueprints=("app.orders.partners.sandbox.api:bp",))
