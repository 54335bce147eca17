"""Snoozing from the conversation header: snooze until a choice, or wake it now.

Both answer htmx with the header and, out of band, the timeline (its new line),
as an inline edit does; the list beside hears the change live.
"""

from __future__ import annotations

from flask import Blueprint, request
from flask_login import current_user

from app.conversations.core import unsnooze
from app.conversations.workspace.refusal import thread_or_refuse
from app.conversations.workspace.services import InvalidInput
from app.conversations.workspace.snooze_options import snooze_thread
from app.conversations.workspace.web.routes import header_changed, header_refusal
from app.platform.auth.decorators import login_required
from app.platform.extensions import db
from app.platform.transactions import commit

bp = Blueprint("snooze", __name__)


@bp.post("/threads/<thread_id>/snooze")
@login_required
def snooze(thread_id):
    thread = thread_or_refuse(thread_id)
    try:
        snooze_thread(
            thread, current_user, request.form.get("snooze"), request.form.get("snooze_until")
        )
    except InvalidInput as exc:
        db.session.rollback()
        return header_refusal(thread, 422, "; ".join(str(v) for v in exc.fields.values()))
    commit()
    return header_changed(thread)


@bp.post("/threads/<thread_id>/unsnooze")
@login_required
def wake(thread_id):
    thread = thread_or_refuse(thread_id)
    unsnooze(thread, current_user)  # already awake: nothing to do, the header shows so
    commit()
    return header_changed(thread)
