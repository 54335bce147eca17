"""What the OpenAPI document says of values beyond the models: path parameters' form,
and no ``"default": null`` where null is not allowed."""

from __future__ import annotations

from app.orders.make.schemas import SCENARIOS

UUID = {"type": "string", "format": "uuid"}
# Each path parameter's form; an id of another form names nothing (404).
PATH_PARAMETERS: dict[str, dict] = {
    "partner_id": {**UUID, "description": "Your partner id (shown with your API key)"},
    "partner_order_id": {
        "type": "string",
        "minLength": 1,
        "maxLength": 100,
        "description": "Your id for the order, as sent",
    },
    "job_id": {"type": "string", "pattern": "^[A-Za-z0-9_-]{1,128}$"},
    "endpoint_id": UUID,
    "delivery_id": UUID,
    "integration_id": UUID,
    "key": {
        "type": "string",
        "description": "The order's UUID or its number (CC-2026-00001)",
        "examples": ["CC-2026-00001"],
    },
    "scenario": {"type": "string", "enum": sorted(SCENARIOS)},
}


def without_null_defaults(node):
    """Drop ``"default": null`` where null is no allowed value (an optional field
    that may be left out but not sent as null): a default must be valid."""
    if isinstance(node, list):
        return [without_null_defaults(item) for item in node]
    if not isinstance(node, dict):
        return node
    cleaned = {key: without_null_defaults(value) for key, value in node.items()}
    if "default" in cleaned and cleaned["default"] is None and not _allows_null(cleaned):
        del cleaned["default"]
    return cleaned


def _allows_null(schema: dict) -> bool:
    kinds = schema.get("type")
    if kinds == "null" or (isinstance(kinds, list) and "null" in kinds):
        return True
    options = schema.get("anyOf", []) + schema.get("oneOf", [])
    return any(isinstance(option, dict) and _allows_null(option) for option in options)
