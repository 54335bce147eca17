"""The partner sandbox in the OpenAPI document: test keys' own endpoints.

Kept apart from :mod:`app.integrations.api_docs.partner_operations`: the order intake and
status poll are the same for both modes, and are described there.
"""

from __future__ import annotations

from app.orders.partners.sandbox.moves import MAX_TEXT
from app.orders.partners.sandbox.schemas import SandboxMoveOut, SandboxTimelineOut
from app.orders.partners.sandbox.timeline import MAX_STEP_SECONDS, PATH
from app.orders.partners.sandbox.visit import DAYS_AHEAD
from app.orders.partners.schemas import ErrorBody

SANDBOX_ERRORS = {
    401: ("Missing or invalid API key", ErrorBody),
    403: (
        "A live key (test_key_required: the sandbox takes a test key, sbk_test_…), a key "
        "of another partner, or the integration is switched off",
        ErrorBody,
    ),
    404: ("No test order with this partner_order_id", ErrorBody),
    429: ("Over the rate limit; see Retry-After", ErrorBody),
}
SANDBOX_INTRO = (
    "**Sandbox.** A test key (`sbk_test_…`) sends orders to the same "
    "`POST /api/v1/partners/{partner_id}/orders`; they become test orders (numbered "
    "`CC-TEST-2026-00001`), seen only by test keys and never worked on by ChargeCars. "
    'Their callbacks are signed as live ones, carry `"test": true` in the body and the '
    "header `X-ChargeCars-Test: true`. Going live is using a live key: nothing else changes."
)
TIMELINE = " → ".join(status.value for status in PATH)


def sandbox_operations(Operation) -> list:
    """The sandbox's operations, built with openapi.py's ``Operation``."""
    return [
        Operation(
            "post",
            "/api/v1/partners/{partner_id}/sandbox/orders/{partner_order_id}/status",
            "Move a test order to a status (sandbox)",
            "Partner API",
            ("ApiKey", "Bearer"),
            body_description=(
                "`status` (required): one of our statuses (new, quote_sent, approved, "
                "scheduled, in_progress, completed, on_hold, cancelled) or your own word for "
                "one in your status mapping; `reason` and `partner_note` (optional, text of "
                f"at most {MAX_TEXT} characters): `partner_note` is the callback's "
                "`status_details.reason`."
            ),
            description=(
                f"{SANDBOX_INTRO}\n\nMoves the test order through the same status rules as "
                "a live order (a move they do not allow is 409 `illegal_transition`) and "
                "sends the callback your subscription asks for. A move to `scheduled` "
                "carries a made-up visit in `visit`, planned as our planners would: on the "
                "first `installation_preferences.preferred_date` that is a working day "
                "(Monday to Friday, no public holiday), else the next working day after it, "
                "in the `time_preference` asked for (morning 08:00-12:00, afternoon "
                "12:00-17:00, or the hours written); without a preferred date, the first "
                f"working day {DAYS_AHEAD} days ahead, in the morning."
            ),
            responses={
                200: ("Moved; the callback is on its way", SandboxMoveOut),
                400: ("The body is not a JSON object", ErrorBody),
                409: ("The order cannot go to this status from its current one", ErrorBody),
                422: ("An unknown status, or a reason or note too long", ErrorBody),
                **SANDBOX_ERRORS,
            },
        ),
        Operation(
            "post",
            "/api/v1/partners/{partner_id}/sandbox/orders/{partner_order_id}/timeline",
            "Run a test order through its timeline (sandbox)",
            "Partner API",
            ("ApiKey", "Bearer"),
            body_description=(
                "Optional. `to`: the last status of the run, one of "
                f"{', '.join(status.value for status in PATH)} (default completed); "
                "`step_seconds`: seconds between moves, above 0 and at most "
                f"{MAX_STEP_SECONDS} (default 30)."
            ),
            description=(
                f"{SANDBOX_INTRO}\n\nMoves the test order along {TIMELINE}, from where it "
                "is, one step every `step_seconds`, each with its callback (the move to "
                "`scheduled` with a made-up `visit`). Asking again while it runs changes "
                "nothing: each move is made once. A move of your own in between ends the run."
            ),
            responses={
                202: ("The run is planned; its steps with their times", SandboxTimelineOut),
                400: ("The body is not a JSON object", ErrorBody),
                409: ("The order is past the asked status, or cannot follow it", ErrorBody),
                422: ("An unknown `to`, or `step_seconds` out of range", ErrorBody),
                **SANDBOX_ERRORS,
            },
        ),
    ]
