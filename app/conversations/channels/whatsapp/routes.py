"""WhatsApp's webhook: Meta's verification handshake, and events stored as they come.

``POST`` checks ``X-Hub-Signature-256`` (HMAC-SHA256 of the raw body with
``WHATSAPP_APP_SECRET``), stores the raw event once per body and answers 200 at
once; :mod:`app.conversations.channels.whatsapp.inbound` processes it in a job.

Without ``WHATSAPP_APP_SECRET`` nothing can be checked: unsigned posts are then
accepted only in sandbox mode (no ``WHATSAPP_ACCESS_TOKEN``, so nothing real is
connected — local demos and tests). A deployment with a token but no app
secret refuses every post, rather than letting anyone inject messages.
"""

from __future__ import annotations

import hashlib
import hmac
import logging

from flask import Blueprint, Response, current_app, request

from app.conversations.channels.whatsapp.payloads import event_type, shape_problems
from app.platform.extensions import csrf
from app.platform.json_api.errors import ApiError
from app.platform.security.access import declare_blueprint, signed
from app.platform.webhooks.recording import body_digest, parse_json, read_raw_body, store_event

log = logging.getLogger(__name__)

bp = Blueprint("whatsapp_webhook", __name__, url_prefix="/api/v1/webhooks/whatsapp")
declare_blueprint(bp, signed("Meta's X-Hub-Signature-256 and verify token"))
csrf.exempt(bp)

SIGNATURE_HEADER = "X-Hub-Signature-256"
# Every stored event gets the same answer: written once, not serialised per post.
RECEIVED = b'{"status":"received"}\n'


@bp.get("")
def verify_subscription():
    """Meta's handshake when the webhook URL is configured: echo the challenge."""
    expected = current_app.config.get("WHATSAPP_VERIFY_TOKEN") or ""
    given = request.args.get("hub.verify_token", "")
    if (
        request.args.get("hub.mode") == "subscribe"
        and expected
        and hmac.compare_digest(given.encode(), expected.encode())
    ):
        response = Response(request.args.get("hub.challenge", ""), 200, mimetype="text/plain")
        response.headers["X-Content-Type-Options"] = "nosniff"
        return response
    raise ApiError(403, "verification_failed", "The verify token does not match.")


@bp.post("")
def receive_event():
    """Store a signed event (401 unsigned, 400 not JSON, 422 not Meta's shape)."""
    raw_body = read_raw_body()
    check_signature(raw_body)
    payload = parse_json(raw_body)
    problems = shape_problems(payload)
    if problems:
        field, problem = next(iter(problems.items()))
        raise ApiError(422, "invalid_payload", f"{field} {problem}.", problems)
    store_event("whatsapp", body_digest(raw_body), raw_body, event_type=event_type(payload))
    return Response(RECEIVED, 200, mimetype="application/json")


def check_signature(raw_body: bytes) -> None:
    """Raise 401 unless the body carries Meta's signature (see the module notes)."""
    config = current_app.config
    secret = config.get("WHATSAPP_APP_SECRET")
    if not secret:
        if config.get("WHATSAPP_ACCESS_TOKEN"):
            log.error("WhatsApp webhook refused: WHATSAPP_APP_SECRET is not configured")
            raise ApiError(401, "invalid_signature", "The signature cannot be verified.")
        return  # sandbox mode: nothing real is connected
    header = request.headers.get(SIGNATURE_HEADER, "")
    scheme, _, given = header.partition("=")
    expected = hmac.new(secret.encode(), raw_body, hashlib.sha256).hexdigest()
    if scheme != "sha256" or not hmac.compare_digest(
        given.strip().lower().encode(), expected.encode()
    ):
        raise ApiError(
            401, "invalid_signature", f"{SIGNATURE_HEADER} is missing or does not match the body."
        )
