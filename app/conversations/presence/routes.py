"""The @mention picker's list: ``GET /api/colleagues[?thread_id=<id>]``.

``{"data": [{"id", "name", "initials"}]}``: active colleagues, by name, the
caller left out; with ``thread_id`` only those who may open that conversation
(a mention tells nobody else). Desk staff only.
"""

from __future__ import annotations

import uuid

from flask import Blueprint, jsonify, request
from flask_babel import gettext as _
from flask_login import current_user

from app.conversations.inbox.access import can_access_thread
from app.conversations.presence.people import find_thread, mentionable
from app.platform.auth.decorators import STAFF_DESK_ROLES
from app.platform.json_api.auth import api_role_required, guard_json_api
from app.platform.json_api.errors import ApiError
from app.platform.models import CommunicationThread

bp = guard_json_api(Blueprint("presence_api", __name__, url_prefix="/api/colleagues"))


@bp.get("")
@api_role_required(*STAFF_DESK_ROLES, message="Only desk staff can mention colleagues.")
def colleagues():
    thread = _thread(request.args.get("thread_id"))
    return jsonify(data=mentionable(current_user, thread))


def _thread(raw: str | None) -> CommunicationThread | None:
    if not raw:
        return None
    try:
        thread = find_thread(uuid.UUID(raw))
    except ValueError as exc:
        message = _("Not a conversation id.")
        raise ApiError(422, "validation_failed", message, {"thread_id": message}) from exc
    if thread is None or not can_access_thread(current_user, thread):
        message = _("No conversation with that id that you can open.")
        raise ApiError(404, "not_found", message, {"thread_id": message})
    return thread
