"""The inbox page: the conversation list, and on a desktop the workspace around it.

htmx requests get the inbox component or, for "load more", rows.
"""

from __future__ import annotations

from flask import Blueprint, abort, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.conversations.inbox.services import InvalidQuery
from app.conversations.inbox.view import inbox_view
from app.conversations.order_hooks import order_named
from app.platform.auth.decorators import STAFF_DESK_ROLES, role_required

bp = Blueprint("inbox", __name__)


@bp.get("/inbox")
@role_required(*STAFF_DESK_ROLES)
def index():
    # An order number typed in the search box goes straight to that order.
    order = order_named(request.args.get("q", "")) if request.args.get("q") else None
    if order is not None:
        target = url_for("orders.show", key=order.order_number)
        if request.htmx:
            # The box searches by htmx: the whole page goes, not the list alone.
            return "", 200, {"HX-Redirect": target}
        return redirect(target, 303)
    try:
        context = inbox_view(current_user, request.args)
    except InvalidQuery as exc:
        abort(400, _("Invalid %(field)s: %(message)s.", field=exc.field, message=exc.message))
    if request.htmx and request.htmx.target == "more-threads":
        return render_template("inbox/_rows.html", **context)
    if request.htmx and not request.htmx.history_restore_request:
        return render_template("inbox/_inbox.html", **context)
    return render_template("inbox/index.html", **context)
