"""The admins' queue page: queues, workers, failed jobs with their traceback, requeue.

Our own page rather than ``rq-dashboard``: it sits behind the same admin role and
second factor as every admin page, speaks the users' language, and its requeue
buttons are forms with our CSRF token.
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext

from app.platform.admin.queues import (
    UnknownJob,
    failed_jobs,
    queue_figures,
    requeue,
    requeue_all,
    workers,
)
from app.platform.auth.decorators import role_required
from app.platform.jobs.queues import broker
from app.platform.models.enums import Role

bp = Blueprint("queues_admin", __name__, url_prefix="/admin/queues")


@bp.get("")
@role_required(Role.ADMIN)
def index():
    return render_template(
        "admin/queues.html",
        queues=queue_figures(),
        workers=workers(),
        failed=failed_jobs(),
        embedded=broker().embedded,
    )


@bp.post("/<queue_name>/failed/<job_id>/requeue")
@role_required(Role.ADMIN)
def requeue_one(queue_name: str, job_id: str):
    try:
        requeue(queue_name, job_id)
    except UnknownJob:
        abort(404, gettext("There is no such failed job; it may have been requeued already."))
    flash(gettext("The job is back in its queue and runs again."), "info")
    return redirect(url_for("queues_admin.index"), 303)


@bp.post("/<queue_name>/failed/requeue")
@role_required(Role.ADMIN)
def requeue_queue(queue_name: str):
    try:
        count = requeue_all(queue_name)
    except UnknownJob:
        abort(404, gettext("There is no such queue."))
    flash(
        gettext(
            "%(count)d failed jobs of %(queue)s are back in their queue.",
            count=count,
            queue=queue_name,
        ),
        "info",
    )
    return redirect(url_for("queues_admin.index"), 303)
