"""The inbox page: the conversation list, and on a desktop the workspace around it.

htmx requests get the inbox component or, for "load more", rows.
"""

from __future__ import annotations

from flask import Blueprint, abort, render_template, request
from flask_babel import gettext as _
from flask_login import current_user

from app.auth.decorators import STAFF_DESK_ROLES, role_required
from app.inbox.services import InvalidQuery
from app.inbox.view import inbox_view

bp = Blueprint("inbox", __name__)


@bp.get("/inbox")
@role_required(*STAFF_DESK_ROLES)
def index():
    try:
        context = inbox_view(current_user, request.args)
    except InvalidQuery as exc:
        abort(400, _("Invalid %(field)s: %(message)s.", field=exc.field, message=exc.message))
    if request.htmx and request.htmx.target == "more-threads":
        return render_template("inbox/_rows.html", **context)
    if request.htmx and not request.htmx.history_restore_request:
        return render_template("inbox/_inbox.html", **context)
    return render_template("inbox/index.html", **context)
