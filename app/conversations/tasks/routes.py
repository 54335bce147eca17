"""The task board, the task form and moving cards. htmx requests get partials."""

from __future__ import annotations

import uuid

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from app.conversations.tasks.board import BOARD_FILTERS, BOARD_STATUSES, board_columns
from app.conversations.tasks.forms import PRIORITY_LABELS, STATUS_LABELS, TASK_TYPE_LABELS, TaskForm
from app.conversations.tasks.reminders import reminder_sent_at
from app.conversations.tasks.services import (
    StaleTaskError,
    TaskForbidden,
    TaskNotFound,
    all_teams,
    assignable_users,
    create_task,
    linked_thread,
    load_task,
    move_task,
    publish_task_outcome,
    update_task,
)
from app.conversations.tasks.validation import TaskValidationError
from app.platform.auth.decorators import STAFF_DESK_ROLES, role_required
from app.platform.database import utcnow
from app.platform.extensions import db
from app.platform.models.enums import TaskStatus
from app.platform.transactions import commit

bp = Blueprint("tasks", __name__)

FILTER_LABELS = {
    "all": _l("All"),
    "mine": _l("Mine"),
    "team": _l("My team"),
    "overdue": _l("Overdue"),
}


def _board_context(filter_name: str, notice: str | None = None) -> dict:
    return dict(
        columns=board_columns(current_user, filter_name, utcnow()),
        filter_name=filter_name,
        filters=[(name, FILTER_LABELS[name]) for name in BOARD_FILTERS],
        status_labels=STATUS_LABELS,
        type_labels=TASK_TYPE_LABELS,
        priority_labels=PRIORITY_LABELS,
        open_statuses=BOARD_STATUSES[:-1],
        notice=notice,
    )


def _filter_arg(value: str | None) -> str:
    filter_name = value or "all"
    if filter_name not in BOARD_FILTERS:
        abort(
            400,
            _(
                "Unknown filter %(name)s; choose one of %(filters)s.",
                name=repr(filter_name),
                filters=", ".join(BOARD_FILTERS),
            ),
        )
    return filter_name


def _wants_partial() -> bool:
    # A history restore after a cache miss needs the whole page back.
    return bool(request.htmx) and not request.htmx.history_restore_request


def _task_or_abort(task_id: uuid.UUID):
    try:
        return load_task(current_user, task_id)
    except TaskNotFound:
        abort(404, _("No such task."))
    except TaskForbidden:
        abort(403, _("This task belongs to work you cannot see."))


@bp.get("/tasks")
@role_required(*STAFF_DESK_ROLES)
def board():
    context = _board_context(_filter_arg(request.args.get("filter")))
    if _wants_partial():
        return render_template("tasks/_board.html", **context)
    return render_template("tasks/board.html", **context)


@bp.post("/tasks/<uuid:task_id>/move")
@role_required(*STAFF_DESK_ROLES)
def move(task_id: uuid.UUID):
    filter_name = _filter_arg(request.form.get("filter"))
    task = _task_or_abort(task_id)
    try:
        status = TaskStatus(request.form.get("status", ""))
    except ValueError:
        abort(400, _("Choose a column to move the task to."))
    try:
        expected = int(request.form["lock_version"]) if request.form.get("lock_version") else None
    except ValueError:
        abort(400, _("lock_version must be a number."))
    title = task.task_title
    try:
        outcome = move_task(
            current_user,
            task,
            status,
            completion_notes=request.form.get("completion_notes"),
            expected_lock_version=expected,
        )
    except StaleTaskError:
        db.session.rollback()
        notice = _(
            "Someone else changed “%(title)s” meanwhile; the board now shows the latest.",
            title=title,
        )
    except TaskValidationError as exc:
        db.session.rollback()
        notice = _("“%(title)s” was not moved: %(problem)s", title=title, problem=exc)
    else:
        commit()
        publish_task_outcome(outcome)
        notice = _("Moved “%(title)s” to %(status)s.", title=title, status=STATUS_LABELS[status])
    if request.htmx:
        return render_template("tasks/_board.html", **_board_context(filter_name, notice))
    flash(notice, "info")
    return redirect(url_for("tasks.board", filter=filter_name), 303)


@bp.route("/tasks/new", methods=["GET", "POST"])
@role_required(*STAFF_DESK_ROLES)
def new():
    form = TaskForm()
    form.set_choices(assignable_users(), all_teams())
    if request.method == "GET":
        thread = linked_thread(current_user, _uuid_arg("thread_id"))
        if thread is not None:
            form.thread_id.data = str(thread.id)
            if thread.order is not None:
                form.order_number.data = thread.order.order_number
        if request.args.get("order"):
            form.order_number.data = request.args["order"]
    elif form.validate_on_submit():
        try:
            outcome = create_task(current_user, form.to_changes())
        except TaskValidationError as exc:
            db.session.rollback()
            form.add_service_errors(exc.fields)
        else:
            commit()
            publish_task_outcome(outcome)
            flash(_("Task “%(title)s” created.", title=outcome.task.task_title), "info")
            return redirect(url_for("tasks.board"), 303)
    return _render_form(form, task=None)


@bp.route("/tasks/<uuid:task_id>/edit", methods=["GET", "POST"])
@role_required(*STAFF_DESK_ROLES)
def edit(task_id: uuid.UUID):
    task = _task_or_abort(task_id)
    form = TaskForm()
    form.set_choices(assignable_users(task.assigned_to_user_id), all_teams())
    stale = None
    if request.method == "GET":
        form.fill_from(task)
    elif form.validate_on_submit():
        try:
            outcome = update_task(
                current_user,
                task,
                form.to_changes(),
                expected_lock_version=form.expected_lock_version(),
            )
        except StaleTaskError as exc:
            db.session.rollback()
            stale = str(exc)
        except TaskValidationError as exc:
            db.session.rollback()
            form.add_service_errors(exc.fields)
        else:
            commit()
            publish_task_outcome(outcome)
            flash(_("Task “%(title)s” saved.", title=outcome.task.task_title), "info")
            return redirect(url_for("tasks.board"), 303)
    return _render_form(form, task=task, stale=stale)


def _render_form(form: TaskForm, task, stale: str | None = None):
    thread = linked_thread(current_user, _parse_uuid(form.thread_id.data))
    status = 200
    if stale:
        status = 409
    elif request.method == "POST":
        status = 422
    return (
        render_template(
            "tasks/form.html",
            form=form,
            task=task,
            linked_thread=thread,
            stale=stale,
            reminder_sent_at=reminder_sent_at(task) if task else None,
        ),
        status,
    )


def _uuid_arg(name: str) -> uuid.UUID | None:
    return _parse_uuid(request.args.get(name))


def _parse_uuid(value: str | None) -> uuid.UUID | None:
    try:
        return uuid.UUID(value.strip()) if value else None
    except ValueError:
        return None
