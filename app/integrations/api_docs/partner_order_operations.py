"""The partner's order API in the OpenAPI document.

Listing, reading, changing and cancelling its own orders, and reading its
integration configuration and the event catalogue.
"""

from __future__ import annotations

from app.orders.partners.order_queries import CURSOR_PATTERN, DEFAULT_LIMIT, MAX_LIMIT
from app.orders.partners.order_schemas import (
    LOCKED_NOTE,
    CancelIn,
    EventCatalogueOut,
    IntegrationConfigOut,
    OrderChangeIn,
    OrderDetailOut,
    OrderPage,
)
from app.orders.partners.schemas import ErrorBody
from app.platform.models.enums import OrderStatus

TAG = "Partner API"
SECURITY = ("ApiKey", "Bearer")
ORDER = "/api/v1/partners/{partner_id}/orders/{partner_order_id}"
MODE = (
    "A key sees its own partner's orders only, and only those of its mode: a test key "
    "(`sbk_test_…`) its test orders, a live key the real ones."
)
STATUS = f"({'|'.join(OrderStatus.values())})"
NOT_FOUND = {404: ("No order of this key's mode with this partner_order_id", ErrorBody)}
BAD_BODY = {
    400: ("The body is not JSON", ErrorBody),
    422: ("Invalid or unknown fields, each named in error.fields", ErrorBody),
}


def _query(name: str, description: str, schema: dict) -> dict:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "description": description,
        "schema": schema,
    }


def partner_order_operations(Operation, partner_errors: dict) -> list:
    """The order API's operations, built with openapi.py's ``Operation``."""
    return [
        Operation(
            "get",
            "/api/v1/partners/{partner_id}/orders",
            "Your orders, newest change first",
            TAG,
            SECURITY,
            description=(
                f"For reconciliation. {MODE} Ordered by `updated_at`, newest first; "
                "follow `next_cursor` (pass it as `cursor`) until it is null."
            ),
            parameters=(
                _query(
                    "status",
                    "Only orders in these statuses, several comma-separated: our names "
                    "(`new,approved`, as the pattern lists) or your own words from your "
                    "`chargecars_to_partner` mapping. An unknown word is refused (422).",
                    {"type": "string", "pattern": f"^{STATUS}(,{STATUS})*$"},
                ),
                _query(
                    "updated_since",
                    "Only orders changed at or after this ISO 8601 time "
                    "(e.g. `2026-06-01T10:30:00Z`; without a zone UTC is meant).",
                    {"type": "string", "format": "date-time"},
                ),
                _query(
                    "limit",
                    f"Orders per page, 1-{MAX_LIMIT} (default {DEFAULT_LIMIT})",
                    {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT},
                ),
                _query(
                    "cursor",
                    "The previous page's `next_cursor`, as given",
                    {"type": "string", "pattern": CURSOR_PATTERN},
                ),
            ),
            responses={
                200: ("A page of orders", OrderPage),
                422: ("A bad filter, named in error.fields", ErrorBody),
                **partner_errors,
            },
        ),
        Operation(
            "get",
            ORDER,
            "One order in full",
            TAG,
            SECURITY,
            description=(
                f"{MODE} Customer details as you sent them (or last changed them), the "
                "address, installation preferences, lines, the planned visit and every status "
                "change with ChargeCars' note to you. Not limited to once a minute (that is "
                "the `/status` poll's limit); the partner rate limit applies."
            ),
            responses={200: ("The order", OrderDetailOut), **NOT_FOUND, **partner_errors},
        ),
        Operation(
            "patch",
            ORDER,
            "Change contact details or installation preferences",
            TAG,
            SECURITY,
            OrderChangeIn,
            description=(
                f"{LOCKED_NOTE} Only the fields sent change. The customer's contact at "
                "ChargeCars is not changed by what you send: the order keeps your details, "
                "and an e-mail or phone that differs from what we hold is checked by a "
                "colleague first."
            ),
            responses={
                200: ("The order as it is now", OrderDetailOut),
                409: (
                    "order_locked: the order is planned or past it; the message says why",
                    ErrorBody,
                ),
                **BAD_BODY,
                **NOT_FOUND,
                **partner_errors,
            },
        ),
        Operation(
            "post",
            f"{ORDER}/cancel",
            "Cancel an order",
            TAG,
            SECURITY,
            CancelIn,
            description=(
                "Through our status engine: allowed from new, quote_sent, approved, scheduled "
                "and on_hold. Your reason becomes the note you read back in the order's "
                "history and the `order_cancelled` callback."
            ),
            responses={
                200: ("Cancelled; the order as it is now", OrderDetailOut),
                409: (
                    "illegal_transition: not from the order's status; the message names "
                    "the moves allowed",
                    ErrorBody,
                ),
                **BAD_BODY,
                **NOT_FOUND,
                **partner_errors,
            },
        ),
        Operation(
            "get",
            "/api/v1/partners/{partner_id}/integration-config",
            "Your integration configuration",
            TAG,
            SECURITY,
            description=(
                "As POST answers it. Never the signing secret or credentials. A test key "
                "is shown the sandbox's callback settings (`mode: test`), a live key the "
                "live ones."
            ),
            responses={200: ("The configuration", IntegrationConfigOut), **partner_errors},
        ),
        Operation(
            "get",
            "/api/v1/partners/{partner_id}/events",
            "The events you can subscribe to",
            TAG,
            SECURITY,
            description=(
                "Each event's name, when it is sent, the order status that sends it and an "
                "example callback body (in your status words)."
            ),
            responses={200: ("The catalogue", EventCatalogueOut), **partner_errors},
        ),
    ]
