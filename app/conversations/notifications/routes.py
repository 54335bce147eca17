"""The notification bell's panel (an htmx partial)."""

from __future__ import annotations

import uuid

from flask import Blueprint, abort, render_template
from flask_babel import gettext as _
from flask_login import current_user

from app.conversations.notifications.services import (
    mark_all_read,
    mark_read,
    recent_notifications,
    unread_count,
)
from app.platform.auth.decorators import login_required
from app.platform.jobs.queues import enqueue
from app.platform.transactions import commit

bp = Blueprint("notifications", __name__)


@bp.get("/notifications")
@login_required
def panel():
    return render_template(
        "notifications/_panel.html",
        notifications=recent_notifications(current_user.id),
        unread=unread_count(current_user.id),
    )


@bp.post("/notifications/test")
@login_required
def send_test():
    """Queue a test notification: proves worker and live updates on a deployment."""
    enqueue("app.conversations.notifications.jobs.send_test_notification", str(current_user.id))
    return render_template(
        "notifications/_panel.html",
        notifications=recent_notifications(current_user.id),
        unread=unread_count(current_user.id),
        notice=_("Test notification queued; it appears here in a moment."),
    )


@bp.post("/notifications/read")
@login_required
def read_all():
    mark_all_read(current_user.id)
    commit()
    return _panel()


@bp.post("/notifications/<uuid:notification_id>/read")
@login_required
def read_one(notification_id: uuid.UUID):
    """Mark one notification read (its link was followed, or "Mark read" pressed)."""
    if not mark_read(current_user.id, notification_id):
        abort(404)
    commit()
    return _panel()


def _panel():
    return render_template(
        "notifications/_panel.html",
        notifications=recent_notifications(current_user.id),
        unread=unread_count(current_user.id),
    )
