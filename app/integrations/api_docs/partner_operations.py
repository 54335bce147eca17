"""The partner API in the OpenAPI document: orders, status, configuration, status webhook.

What a partner's developer reads on ``/api/docs``: how an order is sent (and
sent again), polled and configured, and how the partner tells us of a status
change. The request bodies are the pydantic models that validate them.
"""

from __future__ import annotations

from app.orders.partners import idempotency
from app.orders.partners.config import ADMIN_ONLY_SETTINGS
from app.orders.partners.order_schemas import IntegrationConfigOut
from app.orders.partners.schemas import (
    ErrorBody,
    IntegrationConfigIn,
    OrderAccepted,
    OrderStatusOut,
    PartnerOrderIn,
    PartnerStatusUpdateIn,
)

PARTNER_ERRORS = {
    401: ("Missing or invalid API key", ErrorBody),
    403: ("A key of another partner, or the integration is switched off", ErrorBody),
    429: ("Over the rate limit; see Retry-After", ErrorBody),
}


def partner_operations(Operation, signed_webhook: dict) -> list:
    """The partner API's operations, built with openapi.py's ``Operation``."""
    return [
        Operation(
            "post",
            "/api/v1/partners/{partner_id}/orders",
            "Send an installation order",
            "Partner API",
            ("ApiKey", "Bearer"),
            PartnerOrderIn,
            description=(
                "Accepts `line_items[].sku` or `products[].partner_sku`. Unmapped SKUs and "
                "addresses the Dutch address register (BAG, through PDOK) cannot confirm do "
                "not refuse the order; it is created and flagged for review (`needs_review`).\n\n"
                "**Sending an order again.** The same `partner_order_id` with the same body "
                "answers 200 with the same order. Same body means the same values after "
                "validation: key order, phone and postal code notation, a house number at the "
                "end of `street` or apart, and fields we do not read make no difference. With "
                "other values it answers 409 `order_conflict`, naming the existing "
                "`chargecars_order_id` and each field that differs (`customer.email`, "
                "`line_items`); the order keeps what was sent first. Orders created before "
                "23 November 2026 cannot be compared and answer 200 as before.\n\n"
                f"**{idempotency.HEADER}** (optional, Stripe's meaning): the same key with the "
                "same body replays the first answer, status and body byte for byte, with "
                f"`{idempotency.REPLAYED_HEADER}: true`; with another body it is refused (422 "
                "`idempotency_key_reused`). Keys are yours alone and kept 24 hours. An answer "
                "is kept once the intake begins: 200, 201 and 409 are replayed; a refused key, "
                "the rate limit, an invalid body (400, 422) and server errors (5xx) keep "
                "nothing, so the request may be retried with the same key. Two requests with "
                "one key at the same moment give one order: the second waits for the first "
                "and replays its answer."
            ),
            parameters=(
                {
                    "name": idempotency.HEADER,
                    "in": "header",
                    "required": False,
                    "description": "Any unique string per request, e.g. a V4 UUID; "
                    "1-255 printable ASCII characters, no spaces.",
                    "schema": {"type": "string", "minLength": 1, "maxLength": 255},
                },
            ),
            responses={
                201: ("Order created", OrderAccepted),
                200: ("This partner_order_id was sent before with the same body", OrderAccepted),
                400: ("Not JSON, or a malformed Idempotency-Key", ErrorBody),
                409: (
                    "This partner_order_id was sent before with other values: "
                    "error.chargecars_order_id names the order, error.fields what differs",
                    ErrorBody,
                ),
                422: (
                    "Invalid fields, each named in error.fields; or an Idempotency-Key "
                    "used before with another body (idempotency_key_reused)",
                    ErrorBody,
                ),
                **PARTNER_ERRORS,
            },
        ),
        Operation(
            "get",
            "/api/v1/partners/{partner_id}/orders/{partner_order_id}/status",
            "An order's current status",
            "Partner API",
            ("ApiKey", "Bearer"),
            description="At most once a minute per order (429 with Retry-After otherwise).",
            responses={
                200: ("The status", OrderStatusOut),
                404: ("No order with this partner_order_id", ErrorBody),
                **PARTNER_ERRORS,
            },
        ),
        Operation(
            "post",
            "/api/v1/partners/{partner_id}/integration-config",
            "Configure callbacks and status mapping",
            "Partner API",
            ("ApiKey", "Bearer"),
            IntegrationConfigIn,
            description=(
                "Only the fields sent are changed. Settings that are ours to give are refused "
                f"(422 naming the field): {', '.join(f'`{key}`' for key in ADMIN_ONLY_SETTINGS)}. "
                "Your `partner_to_chargecars` mapping may reach only the statuses ChargeCars "
                "granted you (`on_hold` unless agreed otherwise); any other is refused with "
                "422 naming the status.\n\n"
                "**Live and test (sandbox) settings.** Your key's mode decides whose callback "
                "settings you change and read. A live key's `webhook_url` and `webhook_events` "
                "are where live orders' callbacks go. A test key's are the sandbox's: test "
                "orders' callbacks go there, signed with the sandbox's own secret, and never "
                "to the live URL unless you send `test_callbacks_to_live_url: true` while the "
                "sandbox URL is empty. A test key may send only `webhook_url`, "
                "`webhook_events` and `test_callbacks_to_live_url`; any other field is refused "
                "with 403 `live_key_required` naming it. A live key sending "
                "`test_callbacks_to_live_url` gets 403 `test_key_required`. A refused request "
                "changes nothing. The answer says `mode` and shows that mode's settings."
            ),
            responses={
                200: ("The configuration now in force, for the key's mode", IntegrationConfigOut),
                422: ("Invalid or refused fields; nothing was changed", ErrorBody),
                **PARTNER_ERRORS,
                403: (
                    "A key of another partner, or the integration is switched off; or a field "
                    "of the other mode's settings (live_key_required, test_key_required), "
                    "named in error.fields; nothing was changed",
                    ErrorBody,
                ),
            },
        ),
        Operation(
            "post",
            "/api/v1/webhooks/partner-status/{partner_id}",
            "Tell us about a status change in your system",
            "Webhooks",
            ("StandardWebhooks",),
            PartnerStatusUpdateIn,
            description=(
                "Signed with Standard Webhooks (webhook-id, webhook-timestamp within 5 minutes, "
                "webhook-signature) using your secret. The status is mapped with your "
                "`partner_to_chargecars` mapping; the same webhook-id twice changes nothing. "
                "You may put an order only in the statuses ChargeCars granted you (`on_hold` "
                "unless agreed otherwise); an update that maps to any other status is refused "
                "(422) and changes nothing. The order's own rules still apply: a move it "
                "cannot make from its current status is refused (409)."
            ),
            responses={
                200: ("Applied", None),
                404: ("Unknown partner or order", ErrorBody),
                409: ("The mapped status cannot follow the order's current one", ErrorBody),
                422: ("Invalid fields, an unmapped status or one not granted", ErrorBody),
                **signed_webhook,
            },
        ),
    ]
