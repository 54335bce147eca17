"""``POST /api/v1/webhooks/fillout``: a form was submitted.

Authenticated by ``Authorization: Bearer <FILLOUT_WEBHOOK_SECRET>`` or
``?secret=`` (Fillout's webhook settings allow either). The submission is read
through its form's question mapping and refused (422) when it names no customer
or no way to reach them; otherwise it is stored once per form and submission
and turned into an order by the webhook job (:mod:`app.orders.fillout.processing`).
"""

from __future__ import annotations

import hmac

from flask import Blueprint, current_app, jsonify, request

from app.orders.fillout.forms import find_form
from app.orders.fillout.mapping import intake_problems, map_submission
from app.orders.fillout.payloads import InvalidSubmission, parse_submission
from app.platform.extensions import csrf
from app.platform.json_api.errors import ApiError
from app.platform.security.access import declare_blueprint, signed
from app.platform.transactions import commit
from app.platform.webhooks.recording import parse_json, read_raw_body, record_event

bp = Blueprint("fillout_webhook", __name__, url_prefix="/api/v1/webhooks/fillout")
declare_blueprint(bp, signed("Fillout's shared secret"))
csrf.exempt(bp)


@bp.post("")
def receive_submission():
    check_secret()
    raw_body = read_raw_body()
    payload = parse_json(raw_body)
    try:
        submission = parse_submission(payload)
    except InvalidSubmission as exc:
        raise ApiError(
            422, "validation_failed", "The body is not a Fillout submission.", exc.fields
        ) from exc
    form = find_form(submission.form_id)
    if form is not None and not form.is_active:
        raise ApiError(
            422,
            "form_inactive",
            f"Form {submission.form_id!r} is switched off in Switchboard.",
            {"formId": "this form is not accepted"},
        )
    problems = intake_problems(map_submission(submission, form.field_mapping if form else None))
    if problems:
        raise ApiError(
            422,
            "validation_failed",
            "The submission names no customer or no way to reach them.",
            problems,
        )
    event, is_new = record_event(
        "fillout", submission.dedupe_key, raw_body, event_type="submission"
    )
    commit()
    data = {
        "event_id": str(event.id),
        "submission_id": submission.submission_id,
        "duplicate": not is_new,
    }
    return jsonify(success=True, data=data), 200


def check_secret() -> None:
    """Raise 401 unless the request carries the configured shared secret."""
    secret = current_app.config.get("FILLOUT_WEBHOOK_SECRET")
    if not secret:
        raise ApiError(
            401, "not_configured", "FILLOUT_WEBHOOK_SECRET is not configured; nothing is accepted."
        )
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    given = token.strip() if scheme.lower() == "bearer" else request.args.get("secret", "")
    if not given or not hmac.compare_digest(given.encode(), secret.encode()):
        raise ApiError(
            401, "invalid_secret", "Send the secret as 'Authorization: Bearer …' or ?secret=."
        )
