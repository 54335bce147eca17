"""Our outgoing webhook endpoints: platform events, the endpoints subscribed, their deliveries."""

from app.integrations.endpoints.events import EVENT_NAMES, TEST_EVENT, emit_event
from app.integrations.endpoints.rules import (
    API_FIELDS,
    MAX_HEADERS,
    RESERVED_HEADERS,
    EndpointForm,
    parse_form,
    parse_json,
)
from app.integrations.endpoints.services import DELIVERY_PAGE_SIZE, create_endpoint, endpoint_rows

__all__ = [
    "API_FIELDS",
    "DELIVERY_PAGE_SIZE",
    "EVENT_NAMES",
    "EndpointForm",
    "MAX_HEADERS",
    "RESERVED_HEADERS",
    "TEST_EVENT",
    "create_endpoint",
    "emit_event",
    "endpoint_rows",
    "parse_form",
    "parse_json",
]
