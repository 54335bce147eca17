"""The notification bell's panel (an htmx partial)."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask_login import current_user, login_required

from app.jobs.queues import enqueue
from app.notifications.services import mark_all_read, recent_notifications, unread_count
from app.transactions import commit

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
    enqueue("app.notifications.jobs.send_test_notification", str(current_user.id))
    return render_template(
        "notifications/_panel.html",
        notifications=recent_notifications(current_user.id),
        unread=unread_count(current_user.id),
        notice="Test notification queued; it appears here in a moment.",
    )


@bp.post("/notifications/read")
@login_required
def read_all():
    mark_all_read(current_user.id)
    commit()
    return render_template(
        "notifications/_panel.html",
        notifications=recent_notifications(current_user.id),
        unread=0,
    )
