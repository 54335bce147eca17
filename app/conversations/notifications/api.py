"""JSON API for notifications."""

from __future__ import annotations

from flask import Blueprint, jsonify
from flask_login import current_user

from app.conversations.notifications.services import (
    mark_all_read,
    notification_to_dict,
    recent_notifications,
    unread_count,
)
from app.platform.jobs.queues import enqueue
from app.platform.json_api.auth import guard_json_api
from app.platform.transactions import commit

bp = guard_json_api(Blueprint("notifications_api", __name__, url_prefix="/api/notifications"))


@bp.get("")
def index():
    return jsonify(
        data=[notification_to_dict(n) for n in recent_notifications(current_user.id)],
        unread=unread_count(current_user.id),
    )


@bp.post("/read")
def read_all():
    changed = mark_all_read(current_user.id)
    commit()
    return jsonify(data={"marked_read": changed})


@bp.post("/test")
def send_test():
    job = enqueue(
        "app.conversations.notifications.jobs.send_test_notification",
        str(current_user.id),
        queue="default",
    )
    return jsonify(data={"job_id": job.id}), 202
