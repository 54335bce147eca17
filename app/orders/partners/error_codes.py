"""Every error code the partner API can answer: the one list a partner reads.

The partner API answers ``{"success": false, "error": {"code", "message",
"fields"?}}`` (:mod:`app.platform.json_api.errors`). This registry says, per ``code``, with
which HTTP status it comes, what it means and what the partner should do. The
error table in ``docs/partners.md`` is generated from it (:func:`docs_table`),
and ``tests/orders/test_partner_error_codes.py`` holds it to the source: a code that
a route of ``/api/v1/partners/…`` or of the partner status webhook can answer
but is missing here fails the test, and so does a code listed here that
nothing answers.

A new code is one ``ErrorCode(…)`` line below; then regenerate the docs table
with ``python -m app.orders.partners.error_codes --write`` (without ``--write`` it
prints the table).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

DOCS = Path(__file__).resolve().parents[3] / "docs" / "partners.md"
DOCS_START = "<!-- partner-error-codes:start"
DOCS_END = "<!-- partner-error-codes:end -->"


@dataclass(frozen=True)
class ErrorCode:
    code: str
    # The HTTP statuses this code comes with (most codes have one).
    statuses: tuple[int, ...]
    # What happened, in the partner's words (English, as the partner docs).
    meaning: str
    # What the partner does about it.
    what_to_do: str


# Grouped as a partner meets them: the key, the request, the order, the status
# webhook, then what any HTTP path can answer. Order here is the docs' order.
ERROR_CODES: tuple[ErrorCode, ...] = (
    ErrorCode("missing_api_key", (401,), "No API key was sent.", "Send your key in `X-API-Key` (or `Authorization: Bearer`)."),
    ErrorCode("invalid_api_key", (401,), "The key is unknown, revoked or expired.", "Check the key; make a new one in the portal (API keys) if it was revoked or expired."),
    ErrorCode("forbidden", (403,), "The key belongs to another partner, or this partner has no API integration.", "Use the `partner_id` that goes with your key (shown with the key in the portal)."),
    ErrorCode("integration_inactive", (403,), "ChargeCars switched this partner's integration off.", "Contact ChargeCars; nothing is accepted until it is switched on again."),
    ErrorCode("insufficient_scope", (403,), "The key has the read scope and the request changes something.", "Use a key with the write scope for POST, PATCH and DELETE."),
    ErrorCode("ip_not_allowed", (403,), "The request came from an address outside your IP allow-list; the message names the address we saw.", "Add that address (or its range) to the allow-list in the portal, or call from an allowed address."),
    ErrorCode("test_key_required", (403,), "A sandbox endpoint was called with a live key, or a live key sent a sandbox setting (`test_callbacks_to_live_url`, named in `error.fields`).", "Use a test key (`sbk_test_…`); live orders move only through ChargeCars."),
    ErrorCode("live_key_required", (403,), "A test key sent a live setting to the integration configuration; `error.fields` names each. A test key changes only the sandbox's `webhook_url`, `webhook_events` and `test_callbacks_to_live_url`.", "Change live settings with a live key (`sbk_live_…`); nothing of the request was applied."),
    ErrorCode("rate_limited", (429,), "More requests in a minute than your limit, or an order's status asked more than once a minute.", "Wait the seconds in `Retry-After`; subscribe to callbacks instead of polling."),
    ErrorCode("invalid_json", (400,), "The body is not JSON (or not sent as `Content-Type: application/json`).", "Send a JSON object with `Content-Type: application/json`."),
    ErrorCode("validation_failed", (422,), "Fields are missing or invalid; `error.fields` names each one.", "Fix the named fields and send again."),
    ErrorCode("invalid_idempotency_key", (400,), "The `Idempotency-Key` header is malformed.", "Use 1-255 printable characters without spaces, for example a V4 UUID."),
    ErrorCode("idempotency_key_reused", (422,), "This `Idempotency-Key` was used before with another body.", "Use a new key for a new request."),
    ErrorCode("idempotency_key_in_use", (409,), "A request with this `Idempotency-Key` is still being answered.", "Retry shortly with the same key and body."),
    ErrorCode("order_conflict", (409,), "This `partner_order_id` was sent before with other values; `error.chargecars_order_id` names the order, `error.fields` what differs.", "Do not resend to change an order; use the order endpoints, or ask ChargeCars."),
    ErrorCode("not_found", (404,), "No such order of yours, or no such path.", "Check the `partner_order_id` and the URL."),
    ErrorCode("order_locked", (409,), "The order is planned (or further); its contact details and preferences can no longer be changed through the API.", "Ask ChargeCars to change a planned order."),
    ErrorCode("illegal_transition", (409,), "The order cannot move to that status from the one it has (a cancel or status update the order's rules refuse).", "Read the order's current status (GET the order) and send only a move it allows."),
    ErrorCode("invalid_signature", (401,), "Status webhook: the Standard Webhooks signature is missing, stale (over 5 minutes) or does not match.", "Sign `{webhook-id}.{webhook-timestamp}.{body}` with your current secret, using the current time."),
    ErrorCode("partner_not_found", (404,), "Status webhook: no active partner integration has this id.", "Check the `partner_id` in the URL."),
    ErrorCode("order_not_found", (404,), "Status webhook: no order of yours has this `partner_order_id`.", "Send updates only for orders you sent us."),
    ErrorCode("unknown_status", (422,), "Status webhook: the status is not in your `partner_to_chargecars` mapping.", "Add it to the mapping (integration configuration) or send a mapped status."),
    ErrorCode("status_not_allowed", (422,), "Status webhook: the status maps to one ChargeCars has not granted you.", "Send only the statuses you were granted (`granted_statuses` in your configuration)."),
    ErrorCode("malformed_json", (400,), "Status webhook: the body is not a JSON object.", "Send the update as a JSON object."),
    ErrorCode("payload_too_large", (413,), "Status webhook: the body is over 1 MB.", "Send one update per request."),
    ErrorCode("request_entity_too_large", (413,), "The body is over 2 MB.", "Send smaller requests."),
    ErrorCode("method_not_allowed", (405,), "This path does not take this HTTP method.", "Check the method in the reference (`/api/docs`)."),
    ErrorCode("internal_server_error", (500,), "Something failed on our side; nothing you sent is at fault.", "Retry later (with the same `Idempotency-Key` for an order); tell ChargeCars if it persists."),
)

BY_CODE: dict[str, ErrorCode] = {entry.code: entry for entry in ERROR_CODES}


def docs_table() -> str:
    """The Markdown table of ``docs/partners.md`` (a test holds the file to this)."""
    lines = [
        "| code | HTTP | meaning | what to do |",
        "|---|---|---|---|",
    ]
    for entry in ERROR_CODES:
        statuses = ", ".join(str(status) for status in entry.statuses)
        lines.append(f"| `{entry.code}` | {statuses} | {entry.meaning} | {entry.what_to_do} |")
    return "\n".join(lines) + "\n"


def write_docs_table(path: Path = DOCS) -> None:
    """Put :func:`docs_table` between the markers of ``docs/partners.md``."""
    text = path.read_text(encoding="utf-8")
    start = text.index("\n", text.index(DOCS_START)) + 1
    end = text.index(DOCS_END)
    path.write_text(text[:start] + docs_table() + text[end:], encoding="utf-8")


if __name__ == "__main__":  # python -m app.orders.partners.error_codes [--write]
    if sys.argv[1:] == ["--write"]:
        write_docs_table()
    else:
        print(docs_table(), end="")
