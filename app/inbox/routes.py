"""The inbox page. An htmx request gets only the list partial."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, render_template, request
from flask_login import current_user

from app.auth.decorators import STAFF_DESK_ROLES, role_required
from app.database import utcnow
from app.inbox.services import FILTERS, InvalidCursor, list_threads, sla_label

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
    filter_name = request.args.get("filter", "all")
    if filter_name not in FILTERS:
        abort(400, f"Unknown filter {filter_name!r}; choose one of {', '.join(FILTERS)}.")
    try:
        page = list_threads(
            current_user,
            filter_name=filter_name,
            cursor=request.args.get("cursor") or None,
            limit=current_app.config["INBOX_PAGE_SIZE"],
        )
    except InvalidCursor as exc:
        abort(400, str(exc))
    now = utcnow()
    rows = [(thread, sla_label(thread, now)) for thread in page.threads]
    context = dict(
        rows=rows,
        next_cursor=page.next_cursor,
        filter_name=filter_name,
        filters=[(name, FILTER_LABELS[name]) for name in FILTERS],
        appending=bool(request.args.get("cursor")),
    )
    if request.htmx:
        return render_template("inbox/_rows.html", **context)
    return render_template("inbox/index.html", **context)
