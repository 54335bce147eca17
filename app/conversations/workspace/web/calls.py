"""Logging a phone call from the conversation page, and the JSON API's calls.

The checks and the write are in :mod:`app.conversations.workspace.calls`; the page answers
with the composer (the call form emptied, or with its errors) and the
timeline and header out of band.
"""

from __future__ import annotations

from flask import Blueprint, jsonify, redirect, render_template, request, url_for
from flask_login import current_user

from app.conversations.core import format_duration
from app.conversations.workspace.calls import add_call, read_call
from app.conversations.workspace.presenters import message_to_dict
from app.conversations.workspace.refusal import thread_or_refuse
from app.conversations.workspace.services import (
    AccessDenied,
    InvalidInput,
    ThreadNotFound,
    load_thread,
)
from app.conversations.workspace.web.routes import (
    composer_context,
    composer_error,
    header_out_of_band,
    timeline_context,
)
from app.platform.auth.decorators import STAFF_DESK_ROLES, login_required
from app.platform.extensions import db
from app.platform.json_api.auth import api_role_required, guard_json_api
from app.platform.json_api.errors import ApiError
from app.platform.labels import label
from app.platform.models.enums import CallOutcome
from app.platform.transactions import commit

bp = Blueprint("calls", __name__)
api_bp = guard_json_api(Blueprint("calls_api", __name__, url_prefix="/api/communication"))

CALL_FIELDS = ("direction", "outcome", "duration", "notes")


@bp.app_template_global()
def call_outcomes() -> list[tuple[str, str]]:
    """The outcomes the call form offers, as (value, label in the reader's language)."""
    return [(outcome.value, label(outcome, "call_outcome")) for outcome in CallOutcome]


bp.add_app_template_filter(format_duration, "call_duration")


@bp.post("/threads/<thread_id>/call")
@login_required
def log(thread_id):
    """Log a call on the thread (form: direction, outcome, duration, notes)."""
    thread = thread_or_refuse(thread_id)
    form = {key: request.form.get(key, "") for key in CALL_FIELDS}
    try:
        add_call(thread, current_user, read_call(form))
    except InvalidInput as exc:
        db.session.rollback()
        return composer_error(thread, {**form, "mode": "call"}, exc.fields)
    commit()
    if not request.htmx:
        return redirect(url_for("threads.show", thread_id=thread.id), 303)
    composer_html = render_template("threads/_composer.html", **composer_context(thread))
    timeline_html = render_template("threads/_timeline.html", **timeline_context(thread), oob=True)
    # A call that reached the customer moves the status and stops the SLA clock.
    return composer_html + timeline_html + header_out_of_band(thread)


@api_bp.post("/calls")
@api_role_required(*STAFF_DESK_ROLES, message="Logging calls is desk work.")
def create_call():
    """POST /api/communication/calls: log a call on a thread; 201 with the message."""
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise ApiError(400, "invalid_json", "The request body must be a JSON object.")
    if not body.get("thread_id"):
        raise ApiError(
            422, "validation_failed", "Some fields are not valid.", {"thread_id": "Required."}
        )
    try:
        thread = load_thread(str(body.get("thread_id") or ""), current_user)
    except ThreadNotFound as exc:
        raise ApiError(404, "not_found", "No thread with that id.") from exc
    except AccessDenied as exc:
        raise ApiError(403, "forbidden", "This thread belongs to another team.") from exc
    try:
        message = add_call(thread, current_user, read_call(body))
    except InvalidInput as exc:
        db.session.rollback()
        raise ApiError(422, "validation_failed", "Some fields are not valid.", exc.fields) from exc
    commit()
    return jsonify({"data": message_to_dict(message)}), 201
