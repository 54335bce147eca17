"""``POST /api/v1/webhooks/sms``: Twilio-compatible inbound messages and status callbacks.

Verify ``X-Twilio-Signature`` over the URL Twilio called and the posted form,
store the raw post once, answer with empty TwiML. Processing happens in the
webhook job (:mod:`app.conversations.channels.sms.inbound`).
"""

from __future__ import annotations

from flask import Blueprint, Response, current_app, request

from app.conversations.channels.sms.payloads import (
    dedupe_key,
    is_status_callback,
    message_sid,
    message_status,
    parse_form,
    signature_is_valid,
)
from app.platform.extensions import csrf
from app.platform.json_api.errors import ApiError
from app.platform.security.access import declare_blueprint, signed
from app.platform.transactions import commit
from app.platform.webhooks.recording import read_raw_body, record_event

bp = Blueprint("sms_webhook", __name__, url_prefix="/api/v1/webhooks/sms")
declare_blueprint(bp, signed("Twilio's request signature"))
csrf.exempt(bp)

# Twilio reads the answer as instructions; an empty <Response> means "send nothing back".
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response/>'


def called_url() -> str:
    """The URL as Twilio called it: the public base (not what a proxy made of it)."""
    base = current_app.config["PUBLIC_BASE_URL"].rstrip("/")
    query = request.query_string.decode()
    return f"{base}{request.path}" + (f"?{query}" if query else "")


@bp.post("")
def receive_sms():
    raw_body = read_raw_body()
    try:
        params = parse_form(raw_body)
    except ValueError as exc:
        raise ApiError(400, "malformed_body", "The body is not a UTF-8 form post.") from exc
    # Without a token nothing can be verified, so nothing is accepted: an unsigned
    # post could otherwise put words in any customer's mouth.
    if not signature_is_valid(
        current_app.config.get("SMS_AUTH_TOKEN"),
        called_url(),
        params,
        request.headers.get("X-Twilio-Signature"),
    ):
        raise ApiError(401, "invalid_signature", "X-Twilio-Signature is missing or wrong.")
    fields = dict(params)
    if message_sid(fields) is None:
        raise ApiError(400, "malformed_body", "MessageSid is missing.", {"MessageSid": "required"})
    event_type = f"status:{message_status(fields)}" if is_status_callback(fields) else "message"
    record_event("sms", dedupe_key(fields), raw_body, event_type=event_type)
    commit()
    return Response(EMPTY_TWIML, status=200, mimetype="text/xml")
