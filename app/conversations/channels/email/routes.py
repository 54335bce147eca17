"""``POST /api/v1/webhooks/sendgrid``: SendGrid's signed event webhook.

Verify the ECDSA signature over the timestamp and raw body, and that the
timestamp is recent (:mod:`app.platform.webhooks.freshness`); store the batch once (keyed
by the body's SHA-256), answer 200. Events are applied in the webhook job by
:mod:`app.conversations.channels.email.events`.
"""

from __future__ import annotations

import logging

from flask import Blueprint, current_app, jsonify, request

from app.conversations.channels.email.sendgrid import PROVIDER
from app.conversations.channels.email.signature import (
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    BadVerificationKey,
    signature_is_valid,
)
from app.platform.extensions import csrf
from app.platform.json_api.errors import ApiError
from app.platform.security.access import declare_blueprint, signed
from app.platform.security.bodies import loads as untrusted_json
from app.platform.transactions import commit
from app.platform.transports.registry import is_sandboxed
from app.platform.webhooks.freshness import signed_recently, stale_message
from app.platform.webhooks.recording import body_digest, read_raw_body, record_event

log = logging.getLogger(__name__)

bp = Blueprint("sendgrid_webhook", __name__, url_prefix="/api/v1/webhooks/sendgrid")
declare_blueprint(bp, signed("SendGrid's signed event webhook"))
csrf.exempt(bp)


@bp.post("")
def receive_events():
    raw_body = read_raw_body()
    _verify(raw_body)
    events = _parse(raw_body)
    record_event("sendgrid", body_digest(raw_body), raw_body, event_type=f"batch of {len(events)}")
    commit()
    return jsonify(success=True, received=len(events))


def _verify(raw_body: bytes) -> None:
    key = current_app.config.get("SENDGRID_WEBHOOK_PUBLIC_KEY")
    if not key:
        # Without a key nothing can be checked. In sandbox mode no real mail exists
        # for a forged event to touch, so local testing may post unsigned events.
        if is_sandboxed(PROVIDER):
            return
        raise ApiError(401, "invalid_signature", "Event signing is not configured on this server.")
    try:
        valid = signature_is_valid(
            key,
            request.headers.get(SIGNATURE_HEADER),
            request.headers.get(TIMESTAMP_HEADER),
            raw_body,
        )
    except BadVerificationKey as exc:
        log.error("SENDGRID_WEBHOOK_PUBLIC_KEY cannot be used: %s", exc)
        valid = False
    if not valid:
        raise ApiError(401, "invalid_signature", f"{SIGNATURE_HEADER} is missing or wrong.")
    # The signature covers the timestamp, which must be recent: else a recorded
    # batch could be replayed (a "delivered" over a later "bounce") for ever.
    timestamp = request.headers.get(TIMESTAMP_HEADER, "").strip()
    if not timestamp.isdigit() or not signed_recently(int(timestamp)):
        raise ApiError(401, "stale_signature", stale_message(TIMESTAMP_HEADER))


def _parse(raw_body: bytes) -> list[dict]:
    try:
        events = untrusted_json(raw_body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ApiError(400, "malformed_json", "The body is not valid JSON.") from exc
    if not isinstance(events, list) or not all(isinstance(e, dict) for e in events):
        raise ApiError(400, "malformed_json", "The body must be a JSON array of event objects.")
    return events
