"""The inbox's bulk bar: its choices, and the one POST that changes many conversations.

The bar is its own partial (loaded beside the list, answered after each action
with the summary of what changed and what was refused, and the list's counts
swapped in out of band), so a live refresh of the list never wipes it.
"""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import ngettext
from flask_login import current_user

from app.conversations.inbox.services import filter_choices
from app.conversations.inbox.view import counts_after_change
from app.conversations.workspace.bulk import BulkResult, apply_bulk, parse_bulk
from app.conversations.workspace.editing import assignable_users
from app.conversations.workspace.services import InvalidInput
from app.conversations.workspace.snooze_options import CHOICES as SNOOZE_CHOICES
from app.platform.auth.decorators import STAFF_DESK_ROLES, role_required
from app.platform.extensions import db
from app.platform.transactions import commit

bp = Blueprint("bulk", __name__)


def _bar(status: int = 200, *, result: BulkResult | None = None, error: str | None = None):
    choices = filter_choices(current_user)
    context = dict(
        users=[u for u in assignable_users() if u.role.value != "technician"],
        teams=choices["team"],
        statuses=choices["status"],
        priorities=choices["priority"],
        snooze_choices=SNOOZE_CHOICES,
        result=result,
        summary=summary(result) if result else None,
        error=error,
    )
    html = render_template("inbox/_bulk_bar.html", **context)
    if result is not None:
        # The tab and view counts ride along (out of band): they change with the action.
        html += render_template(
            "inbox/_counts_oob.html", fresh_counts=counts_after_change(current_user)
        )
    return html, status


def summary(result: BulkResult) -> str:
    """ "18 changed, 2 refused" in words, for the bar and a flash."""
    parts = [ngettext("%(num)d changed", "%(num)d changed", len(result.changed))]
    if result.unchanged:
        parts.append(ngettext("%(num)d already so", "%(num)d already so", len(result.unchanged)))
    if result.refused:
        parts.append(ngettext("%(num)d refused", "%(num)d refused", len(result.refused)))
    return ", ".join(parts)


@bp.get("/inbox/bulk")
@role_required(*STAFF_DESK_ROLES)
def bar():
    return _bar()


@bp.post("/inbox/bulk")
@role_required(*STAFF_DESK_ROLES)
def apply():
    try:
        result = apply_bulk(current_user, parse_bulk(request.form))
    except InvalidInput as exc:
        db.session.rollback()
        error = "; ".join(f"{name}: {message}" for name, message in exc.fields.items())
        if not request.htmx:
            flash(error, "error")
            return redirect(url_for("inbox.index"), 303)
        return _bar(422, error=error)
    commit()
    if not request.htmx:
        flash(summary(result), "info")
        return redirect(url_for("inbox.index"), 303)
    return _bar(result=result)
