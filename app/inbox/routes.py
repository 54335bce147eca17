"""The inbox page. htmx requests get the inbox component or, for "load more", rows."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, render_template, request
from flask_login import current_user

from app.auth.decorators import STAFF_DESK_ROLES, role_required
from app.database import utcnow
from app.inbox.services import (
    FILTERS,
    InboxQuery,
    InvalidQuery,
    filter_choices,
    list_threads,
    sla_label,
)

bp = Blueprint("inbox", __name__)

FILTER_LABELS = {
    "all": "All",
    "email": "Email",
    "whatsapp": "WhatsApp",
    "sms": "SMS",
    "tasks": "Tasks",
    "overdue": "Overdue",
    "mine": "Mine",
}


@bp.get("/inbox")
@role_required(*STAFF_DESK_ROLES)
def index():
    try:
        query = InboxQuery.from_args(request.args)
        page = list_threads(
            current_user,
            query,
            cursor=request.args.get("cursor") or None,
            limit=current_app.config["INBOX_PAGE_SIZE"],
        )
    except InvalidQuery as exc:
        abort(400, f"Invalid {exc.field}: {exc.message}.")
    now = utcnow()
    context = dict(
        rows=[(thread, sla_label(thread, now)) for thread in page.threads],
        next_cursor=page.next_cursor,
        query=query,
        filters=[(name, FILTER_LABELS[name]) for name in FILTERS],
        choices=filter_choices(current_user),
        appending=bool(request.args.get("cursor")),
    )
    if request.htmx and request.htmx.target == "more-threads":
        return render_template("inbox/_rows.html", **context)
    if request.htmx:
        return render_template("inbox/_inbox.html", **context)
    return render_template("inbox/index.html", **context)
