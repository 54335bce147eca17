"""``/m/``: the technician's day on a phone, and the one-tap updates from it.

Every action is a plain form post that answers with a redirect to ``/m/`` and a
flash (works without JavaScript); with htmx the same post answers with just
the visit card or task list it changed, the message inside it (422 when the
action was refused, which the page's htmx settings swap in too).
"""

from __future__ import annotations

import uuid

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.exceptions import RequestEntityTooLarge

from app.attachments.storage import discard_message_files
from app.auth.decorators import role_required
from app.extensions import db
from app.mobile.cards import technician_day, visit_card
from app.mobile.photos import (
    MAX_PHOTO_BYTES,
    PhotoRejected,
    attach_photo,
    read_photo,
    too_large_text,
)
from app.mobile.quick_replies import send_quick_reply
from app.mobile.replay import replayable
from app.mobile.services import local_today, tasks_for
from app.mobile.visits import TAP_LABELS, VisitActionRefused, apply_tap
from app.models import Order
from app.models.enums import Role, TaskStatus
from app.orders.services import may_change_status
from app.security.bodies import accepts_body_up_to
from app.tasks.services import (
    StaleTaskError,
    TaskForbidden,
    TaskNotFound,
    load_task,
    move_task,
    publish_task_outcome,
)
from app.tasks.validation import TaskValidationError
from app.threads.services import InvalidInput
from app.transactions import commit

bp = Blueprint("mobile", __name__, url_prefix="/m")
PHONE_ROLES = (Role.TECHNICIAN, Role.TEAM_LEAD, Role.ADMIN)
# Room for the caption, the CSRF token and multipart boundaries beside the photo.
FORM_OVERHEAD = 64 * 1024


@bp.context_processor
def _phone_view_context():
    return {"tap_labels": TAP_LABELS, "max_photo_bytes": MAX_PHOTO_BYTES}


@bp.errorhandler(RequestEntityTooLarge)
def _too_large(exc):
    order_id = (request.view_args or {}).get("order_id")
    order = db.session.get(Order, order_id) if isinstance(order_id, uuid.UUID) else None
    # The refusal came before the route's own checks: show the card only to
    # someone who may work on it.
    if (
        order is None
        or not current_user.is_authenticated
        or current_user.role not in PHONE_ROLES
        or not may_change_status(current_user, order)
    ):
        return render_template(
            "errors/error.html", code=413, title=_("Too large"), message=too_large_text()
        ), 413
    return _answer(order, error=too_large_text())


@bp.get("/")
@role_required(*PHONE_ROLES)
def today():
    return render_template("mobile/today.html", plan=technician_day(current_user, local_today()))


def _order_for_action(order_id: uuid.UUID) -> Order:
    """The order, locked for this transaction so two quick taps are applied one by one."""
    order = db.session.get(Order, order_id, with_for_update=True)
    if order is None:
        abort(404, _("There is no such visit."))
    if not may_change_status(current_user, order):
        abort(403, _("This visit is assigned to another technician."))
    return order


def _answer(order: Order, *, notice: str | None = None, error: str | None = None):
    if request.htmx:
        card = visit_card(order, current_user, local_today())
        body = render_template("mobile/_visit.html", visit=card, notice=notice, error=error)
        return body, 422 if error else 200
    flash(error or notice, "error" if error else "info")
    return redirect(url_for("mobile.today", _anchor=f"visit-{order.id}"), 303)


@bp.post("/visits/<uuid:order_id>/status")
@role_required(*PHONE_ROLES)
@replayable
def status(order_id: uuid.UUID):
    order = _order_for_action(order_id)
    try:
        outcome = apply_tap(order, current_user, request.form.get("tap", ""), local_today())
    except VisitActionRefused as exc:
        db.session.rollback()
        return _answer(order, error=str(exc))
    commit()
    notice = outcome.notice
    if outcome.customer_problem:
        notice += " " + _(
            "The customer was not told: %(problem)s", problem=outcome.customer_problem
        )
    return _answer(order, notice=notice)


@bp.post("/visits/<uuid:order_id>/photo")
# Raised before the CSRF check reads the form, so an oversized upload is refused
# from its Content-Length before it is spooled.
@accepts_body_up_to(MAX_PHOTO_BYTES + FORM_OVERHEAD)
@role_required(*PHONE_ROLES)
@replayable
def photo(order_id: uuid.UUID):
    order = _order_for_action(order_id)
    upload = request.files.get("photo")
    try:
        data, mime = read_photo(upload.stream if upload and upload.filename else None)
        note = attach_photo(
            order, current_user, data, mime, upload.filename, request.form.get("caption")
        )
    except (PhotoRejected, InvalidInput) as exc:
        db.session.rollback()
        return _answer(order, error=" ".join(exc.fields.values()))
    try:
        commit()
    except Exception:
        db.session.rollback()
        discard_message_files(note.id)
        raise
    return _answer(
        order, notice=_("%(order)s: photo added to the conversation.", order=order.order_number)
    )


@bp.post("/visits/<uuid:order_id>/reply")
@role_required(*PHONE_ROLES)
@replayable
def reply(order_id: uuid.UUID):
    order = _order_for_action(order_id)
    try:
        send_quick_reply(order, current_user, request.form.get("template_id"), local_today())
    except InvalidInput as exc:
        db.session.rollback()
        return _answer(
            order, error=_("Not sent: %(problem)s", problem=" ".join(exc.fields.values()))
        )
    commit()
    return _answer(
        order, notice=_("%(order)s: message sent to the customer.", order=order.order_number)
    )


@bp.post("/tasks/<uuid:task_id>/done")
@role_required(*PHONE_ROLES)
@replayable
def task_done(task_id: uuid.UUID):
    try:
        task = load_task(current_user, task_id)
    except TaskNotFound:
        abort(404, _("No such task."))
    except TaskForbidden:
        abort(403, _("This task is someone else's."))
    title = task.task_title
    try:
        expected = int(request.form["lock_version"]) if request.form.get("lock_version") else None
    except ValueError:
        abort(400, _("lock_version must be a number."))
    try:
        outcome = move_task(
            current_user, task, TaskStatus.COMPLETED, expected_lock_version=expected
        )
    except (StaleTaskError, TaskValidationError) as exc:
        db.session.rollback()
        notice, error = (
            None,
            _("“%(title)s” was not completed: %(problem)s", title=title, problem=exc),
        )
    else:
        commit()
        publish_task_outcome(outcome)
        notice, error = _("Done: “%(title)s”.", title=title), None
    if request.htmx:
        tasks = tasks_for(current_user.id, local_today())
        body = render_template("mobile/_tasks.html", tasks=tasks, notice=notice, error=error)
        return body, 422 if error else 200
    flash(error or notice, "error" if error else "info")
    return redirect(url_for("mobile.today", _anchor="tasks"), 303)
