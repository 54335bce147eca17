"""``/m/``: the technician's day on a phone, and the one-tap updates from it.

Every action is a plain form post that answers with a redirect to ``/m/`` and a
flash (works without JavaScript); with htmx the same post answers with just
the visit card or task list it changed, the message inside it (422 when the
action was refused, 409 when the visit moved on since the card was shown; the
page's htmx settings swap those in too).

"Completed" asks first: without JavaScript on a page of its own, with htmx in
a dialog on the card. Status taps and quick replies then wait
``VISIT_UNDO_SECONDS`` on the server (see :mod:`app.orders.mobile.pending` and Undo
send) while the card offers Undo; nothing leaves before that.
"""

from __future__ import annotations

import uuid

from flask import (
    abort,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.exceptions import RequestEntityTooLarge

from app.conversations.attachments.storage import discard_message_files
from app.conversations.tasks.reminders import is_overdue
from app.conversations.tasks.services import (
    StaleTaskError,
    TaskForbidden,
    TaskNotFound,
    load_task,
    move_task,
    publish_task_outcome,
)
from app.conversations.tasks.validation import TaskValidationError
from app.conversations.workspace.services import InvalidInput
from app.orders.core.services import may_change_status
from app.orders.core.visits import next_visit
from app.orders.mobile.answers import (
    answer_card,
    form_uuid,
    order_for_action,
    order_to_read,
    wants_json,
)
from app.orders.mobile.cards import technician_day, visit_card
from app.orders.mobile.pending import (
    MoveAlreadyWaiting,
    hold_tap,
    settle_due_move,
    stale_refusal,
    still_waiting_refusal,
    undo_move,
    undo_seconds,
    waiting_move,
)
from app.orders.mobile.photos import (
    MAX_PHOTO_BYTES,
    PhotoRejected,
    attach_photo,
    read_photo,
    too_large_text,
)
from app.orders.mobile.replay import is_offline_replay, replayable
from app.orders.mobile.services import (
    VISIT_PURPOSE_LABELS,
    find_order,
    local_today,
    may_work_on,
    tasks_for,
)
from app.orders.mobile.signatures import (
    MAX_SIGNATURE_BYTES,
    AlreadySigned,
    SignatureRejected,
    read_signature,
    sign_visit,
    visit_signature,
)
from app.orders.mobile.signatures import too_large_text as signature_too_large_text
from app.orders.mobile.visits import (
    COMPLETED,
    TAP_LABELS,
    VisitActionRefused,
    apply_tap,
    available_taps,
    needs_confirmation,
    on_the_way_since,
    visit_to_change,
)

# Imported for its routes: the order's conversation joins this blueprint.
from app.orders.mobile.web import conversation  # noqa: F401
from app.orders.mobile.web.blueprint import PHONE_ROLES, bp
from app.platform.auth.decorators import role_required
from app.platform.extensions import db
from app.platform.models import Order, Visit
from app.platform.models.enums import TaskStatus
from app.platform.models.planning import VISIT_PURPOSES
from app.platform.security.bodies import accepts_body_up_to
from app.platform.transactions import commit
from app.platform.ui import order_status_label

# Room for the caption, the CSRF token and multipart boundaries beside the photo.
FORM_OVERHEAD = 64 * 1024


@bp.context_processor
def _phone_view_context():
    # task_overdue: a task past its moment says so, as on the desk's task board.
    return {
        "tap_labels": TAP_LABELS,
        "max_photo_bytes": MAX_PHOTO_BYTES,
        "task_overdue": is_overdue,
    }


@bp.errorhandler(RequestEntityTooLarge)
def _too_large(exc):
    order_id = (request.view_args or {}).get("order_id")
    order = find_order(order_id) if isinstance(order_id, uuid.UUID) else None
    signing = request.endpoint == "mobile.signature"
    message = signature_too_large_text() if signing else too_large_text()
    # The refusal came before the route's own checks: show the card only to
    # someone who may work on it.
    if (
        order is None
        or not current_user.is_authenticated
        or current_user.role not in PHONE_ROLES
        or not may_change_status(current_user, order)
    ):
        return render_template(
            "errors/error.html", code=413, title=_("Too large"), message=message
        ), 413
    return answer_card(order, error=message, fields={"signature": message} if signing else None)


@bp.get("/")
@role_required(*PHONE_ROLES)
def today():
    return render_template("mobile/today.html", plan=technician_day(current_user, local_today()))


@bp.get("/visits/<uuid:order_id>/card")
@role_required(*PHONE_ROLES)
def card(order_id: uuid.UUID):
    """One card as it stands now (the page refreshes a card when its Undo runs out).

    A tap whose window has closed goes through here and now, and the card shows it
    applied: the countdown settles by itself, however busy the workers are.
    """
    order = order_to_read(order_id)
    if settle_due_move(order.id) is not None:
        order = order_to_read(order_id)
    visit = visit_card(order, current_user, local_today())
    return render_template("mobile/_visit.html", visit=visit)


@bp.post("/visits/<uuid:order_id>/status")
@role_required(*PHONE_ROLES)
@replayable
def status(order_id: uuid.UUID):
    """A status tap on the card of one visit (``visit_number``; the order's current
    visit without). "Completed" with ``return_purpose`` asks for a return visit."""
    order = order_for_action(order_id)
    tap = request.form.get("tap", "")
    expected = request.form.get("expected_status")
    return_purpose = request.form.get("return_purpose") or None
    if expected and expected != order.status.value:
        # The card was out of date (another device, an agent, a replayed offline tap).
        db.session.rollback()
        return answer_card(order, error=stale_refusal(order), code=409)
    try:
        visit = visit_to_change(order, _visit_number())
    except VisitActionRefused as exc:
        # The card's visit is done, or an earlier one is not: out of date as well.
        db.session.rollback()
        return answer_card(order, error=str(exc), code=409)
    if not may_work_on(current_user, order, visit):
        db.session.rollback()
        abort(403, _("This visit is assigned to another technician."))
    if return_purpose is not None and (tap != COMPLETED or return_purpose not in VISIT_PURPOSES):
        db.session.rollback()
        return answer_card(order, error=_("Choose why a return visit is needed."))
    waiting = waiting_move(order.id) if is_offline_replay() else None
    if waiting is not None:
        # Done now, the replayed tap would overtake the earlier one still held for
        # its Undo (which would then be refused as stale): out of order either way.
        refusal = still_waiting_refusal(waiting)
        db.session.rollback()
        return answer_card(order, error=refusal, code=409)
    if needs_confirmation(order, tap) and request.form.get("confirmed") != "1":
        db.session.rollback()
        return _confirm(order, tap)
    number = visit.number if visit is not None else None
    # A post kept offline was made a while ago and is replayed in order; holding it
    # again would refuse the next queued tap on the visit ("an update is waiting").
    seconds = 0 if is_offline_replay() else undo_seconds()
    if seconds > 0:
        return _hold(order, tap, seconds, visit, return_purpose)
    try:
        outcome = apply_tap(
            order,
            current_user,
            tap,
            local_today(),
            visit_number=number,
            return_purpose=return_purpose,
        )
    except VisitActionRefused as exc:
        db.session.rollback()
        return answer_card(order, error=str(exc))
    commit()
    notice = outcome.notice
    if outcome.customer_problem:
        notice += " " + _(
            "The customer was not told: %(problem)s", problem=outcome.customer_problem
        )
    return answer_card(order, notice=notice)


def _visit_number() -> int | None:
    """The visit the card showed (None from an older page: the order's current one)."""
    raw = request.form.get("visit_number", "")
    try:
        return int(raw) if raw else None
    except ValueError:
        abort(400, _("visit_number must be a number."))


def _confirm(order: Order, tap: str, **signing):
    """Ask before "Completed": a dialog on the card (htmx), else a page of its own.

    The dialog offers the customer's signature pad (it needs a script, as htmx
    does); ``signing`` carries the signature route's notice or error into it. It
    offers "return visit needed" too: this visit done, the order not.
    """
    visit = order.visit
    context = {
        "order": order,
        "tap": tap,
        "skips": order.status.value != "in_progress",
        "signature": visit_signature(order.id, visit.number if visit is not None else 1),
        "signing": bool(request.htmx),
        "visit": visit,
        "next_visit": next_visit(order, visit) if visit is not None else None,
        "visit_count": len(order.visits),
        "return_purposes": list(VISIT_PURPOSE_LABELS.items()),
        **signing,
    }
    if wants_json():
        # A script (the offline queue) asks on the phone itself and posts confirmed=1.
        question = _("Mark %(order)s completed?", order=order.order_number)
        return jsonify({"order_id": str(order.id), "confirm": question}), 428
    if request.htmx:
        visit_view = visit_card(order, current_user, local_today())
        return render_template("mobile/_visit.html", visit=visit_view, confirm=context)
    return render_template("mobile/confirm.html", confirm=context)


def _hold(order: Order, tap: str, seconds: float, visit: Visit | None, return_purpose: str | None):
    """Write the tap down to go through once its undo window closes."""
    on_the_way_at = on_the_way_since([order.id], local_today()).get(order.id)
    if tap not in available_taps(order, on_the_way_at, visit):
        db.session.rollback()
        label = TAP_LABELS.get(tap)
        return answer_card(
            order,
            error=_(
                "Can't mark %(order)s %(tap)s now: the visit is %(status)s.",
                order=order.order_number,
                tap=str(label).lower() if label else tap,
                status=order_status_label(order.status),
            ),
        )
    try:
        hold_tap(
            order,
            current_user,
            tap,
            order.status.value,
            seconds,
            visit_number=visit.number if visit is not None else None,
            return_purpose=return_purpose,
        )
    except MoveAlreadyWaiting:
        return answer_card(
            order, error=_("An update of this visit is already waiting; undo it or wait.")
        )
    return answer_card(order)


@bp.post("/visits/<uuid:order_id>/undo")
@role_required(*PHONE_ROLES)
@replayable
def undo(order_id: uuid.UUID):
    """Call off the waiting status tap: nothing of it happened, nothing will."""
    order = order_to_read(order_id)
    move_id = form_uuid("move_id")
    if undo_move(move_id, current_user):
        return answer_card(order, notice=_("Undone: the visit was not changed."))
    return answer_card(order, error=_("Too late to undo: the update has gone through."), code=409)


@bp.post("/visits/<uuid:order_id>/photo")
# Raised before the CSRF check reads the form, so an oversized upload is refused
# from its Content-Length before it is spooled.
@accepts_body_up_to(MAX_PHOTO_BYTES + FORM_OVERHEAD)
@role_required(*PHONE_ROLES)
@replayable
def photo(order_id: uuid.UUID):
    order = order_for_action(order_id)
    upload = request.files.get("photo")
    try:
        data, mime = read_photo(upload.stream if upload and upload.filename else None)
        note = attach_photo(
            order, current_user, data, mime, upload.filename, request.form.get("caption")
        )
    except (PhotoRejected, InvalidInput) as exc:
        db.session.rollback()
        return answer_card(order, error=" ".join(exc.fields.values()))
    _commit_with_files(note.id)
    return answer_card(
        order, notice=_("%(order)s: photo added to the conversation.", order=order.order_number)
    )


def _commit_with_files(message_id: uuid.UUID) -> None:
    """Commit a note whose files are stored already; no files left without their note."""
    try:
        commit()
    except Exception:
        db.session.rollback()
        discard_message_files(message_id)
        raise


@bp.post("/visits/<uuid:order_id>/signature")
@accepts_body_up_to(MAX_SIGNATURE_BYTES + FORM_OVERHEAD)
@role_required(*PHONE_ROLES)
@replayable
def signature(order_id: uuid.UUID):
    """The customer's signature (a PNG drawn on the phone) and who signed, once per visit."""
    order = order_for_action(order_id)
    upload = request.files.get("signature")
    try:
        data, signer = read_signature(
            upload.stream if upload else None, request.form.get("signer_name")
        )
        signed = sign_visit(order, current_user, data, signer, _visit_number())
    except SignatureRejected as exc:
        db.session.rollback()
        return _signing_answer(order, error=" ".join(exc.fields.values()), fields=exc.fields)
    except AlreadySigned:
        db.session.rollback()
        return _signing_answer(
            order, notice=_("The customer had already signed; that signature stands.")
        )
    _commit_with_files(signed.message_id)
    return _signing_answer(order, notice=_("%(order)s: signature saved.", order=order.order_number))


def _signing_answer(order: Order, **answer):
    """Signed from the "Completed?" dialog: the dialog again, with the answer in it.

    Not for a post from the offline queue: nobody looks at that dialog any more,
    and the queue reads a dialog in the answer as "not done yet".
    """
    if (
        request.htmx
        and not is_offline_replay()
        and request.form.get("tap") == "completed"
        and needs_confirmation(order, "completed")
    ):
        dialog = _confirm(
            order,
            "completed",
            signature_notice=answer.get("notice"),
            signature_error=answer.get("error"),
        )
        return dialog, 422 if answer.get("error") else 200
    return answer_card(order, **answer)


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
