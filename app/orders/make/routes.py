"""``POST /api/v1/webhooks/make/<scenario>``: Make.com scenarios calling in.

``X-Make-Signature`` is the hex HMAC-SHA256 of the raw body with
``MAKE_WEBHOOK_SECRET``; without a configured secret nothing is accepted. A
valid body is stored once (per execution id, or per identical body) and
processed by the webhook job (:mod:`app.orders.make.inbound`).
"""

from __future__ import annotations

import hashlib
import hmac
import re

from flask import Blueprint, current_app, jsonify, request

from app.orders.make.schemas import SCENARIOS, InvalidScenarioBody, validate_scenario
from app.platform.extensions import csrf
from app.platform.json_api.errors import ApiError
from app.platform.security.access import declare_blueprint, signed
from app.platform.transactions import commit
from app.platform.webhooks.recording import (
    body_digest,
    kept_headers,
    parse_json,
    read_raw_body,
    record_event,
)

bp = Blueprint("make_webhook", __name__, url_prefix="/api/v1/webhooks/make")
declare_blueprint(bp, signed("Make.com's shared secret"))
csrf.exempt(bp)

SIGNATURE_HEADER = "X-Make-Signature"
EXECUTION_HEADER = "X-Make-Execution-Id"
EXECUTION_ID = re.compile(r"^[\x21-\x7e]{1,120}$")


@bp.post("/<scenario>")
def receive_scenario(scenario: str):
    if scenario not in SCENARIOS:
        known = ", ".join(SCENARIOS)
        raise ApiError(404, "unknown_scenario", f"No scenario {scenario!r}; known: {known}.")
    raw_body = read_raw_body()
    check_signature(raw_body)
    payload = parse_json(raw_body)
    try:
        body = validate_scenario(scenario, payload)
    except InvalidScenarioBody as exc:
        raise ApiError(
            422, "validation_failed", f"The {scenario} body is not valid.", exc.fields
        ) from exc
    execution_id = request.headers.get(EXECUTION_HEADER, "").strip() or body.execution_id
    if execution_id and not EXECUTION_ID.match(execution_id):
        raise ApiError(
            422,
            "validation_failed",
            "The execution id is not valid.",
            {"execution_id": "printable ASCII without spaces, at most 120 characters"},
        )
    # Make retries a failed call with the same body; an execution id, when the
    # scenario sends one, also tells two identical bodies apart.
    dedupe = execution_id or f"sha256:{body_digest(raw_body)}"
    headers = kept_headers()
    if execution_id:
        headers["x-make-execution-id"] = execution_id
    event, is_new = record_event(
        "make", f"{scenario}:{dedupe}", raw_body, event_type=scenario, headers=headers
    )
    commit()
    data = {"event_id": str(event.id), "scenario": scenario, "duplicate": not is_new}
    return jsonify(success=True, data=data), 200


def check_signature(raw_body: bytes) -> None:
    """Raise 401 unless ``X-Make-Signature`` is the body's HMAC with our secret."""
    secret = current_app.config.get("MAKE_WEBHOOK_SECRET")
    if not secret:
        raise ApiError(
            401, "not_configured", "MAKE_WEBHOOK_SECRET is not configured; nothing is accepted."
        )
    given = request.headers.get(SIGNATURE_HEADER, "").strip().lower().removeprefix("sha256=")
    expected = hmac.new(secret.encode(), raw_body, hashlib.sha256).hexdigest()
    if not given or not hmac.compare_digest(given.encode(), expected.encode()):
        raise ApiError(
            401, "invalid_signature", f"{SIGNATURE_HEADER} is missing or does not match the body."
        )
