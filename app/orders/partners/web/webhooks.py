"""``POST /api/v1/webhooks/partner-status/<partner_id>``.

Answers 401 unsigned, 404 unknown partner or order, 400 not JSON, 422 bad
fields or unmapped status, 409 a move the status engine refuses, else 200 with
the order number, our status and the transition id.
"""

from __future__ import annotations

from flask import Blueprint, jsonify, request

from app.orders.partners.status_webhook import (
    InvalidSignature,
    InvalidUpdate,
    StatusUpdateRejected,
    find_integration,
    parse_update,
    receive_status_update,
    record_rejection,
    verify_signature,
)
from app.platform.extensions import csrf, db
from app.platform.json_api.errors import ApiError
from app.platform.security.access import declare_blueprint, signed
from app.platform.transactions import commit
from app.platform.webhooks.recording import parse_json, read_raw_body

bp = Blueprint("partner_status_webhook", __name__, url_prefix="/api/v1/webhooks/partner-status")
declare_blueprint(bp, signed("the partner's HMAC signature"))
csrf.exempt(bp)


@bp.post("/<partner_id>")
def receive_partner_status(partner_id: str):
    integration = find_integration(partner_id)
    if integration is None:
        raise ApiError(404, "partner_not_found", "No active partner integration with that id.")
    raw_body = read_raw_body()
    try:
        webhook_id = verify_signature(integration.signing_secrets(), request.headers, raw_body)
    except InvalidSignature as exc:
        raise ApiError(401, "invalid_signature", str(exc)) from exc
    try:
        update = parse_update(parse_json(raw_body))
    except InvalidUpdate as exc:
        raise ApiError(
            422, "validation_failed", "The status update is not valid.", exc.fields
        ) from exc
    try:
        result = receive_status_update(integration, webhook_id, raw_body, update)
    except StatusUpdateRejected as exc:
        db.session.rollback()
        record_rejection(integration, webhook_id, raw_body, exc.message)
        commit()
        raise ApiError(exc.status, exc.code, exc.message, exc.fields) from exc
    commit()
    return jsonify(success=True, data=result.as_dict()), 200
