"""Saving the inbox's filters as a named view, and renaming or deleting views.

The save form sits in the inbox list; from htmx it gets the list back (with
the new view in the sidebar), from a plain form post a redirect to it.
Refusals are 422 naming the field, shown in the form.
"""

from __future__ import annotations

import uuid

from flask import Blueprint, abort, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.conversations.inbox.saved_views import (
    QUERY_KEYS,
    SavedViewError,
    can_edit,
    delete_view,
    find_view,
    save_view,
    update_view,
    visibility_choices,
)
from app.conversations.inbox.view import inbox_view, sidebar_views
from app.platform.auth.decorators import STAFF_DESK_ROLES, role_required
from app.platform.extensions import db
from app.platform.transactions import commit

bp = Blueprint("saved_views", __name__)

# Form fields that are not part of the view's query.
FORM_FIELDS = ("csrf_token", "name", "visibility")


@bp.post("/inbox/views")
@role_required(*STAFF_DESK_ROLES)
def create():
    form = request.form
    query_args = {key: value for key, value in form.items() if key not in FORM_FIELDS}
    try:
        view = save_view(
            current_user, form.get("name", ""), form.get("visibility") or "private", query_args
        )
    except SavedViewError as exc:
        db.session.rollback()
        # The list stays as it was; the form shows what to fix.
        safe_args = {k: v for k, v in query_args.items() if k in QUERY_KEYS and k != exc.field}
        context = inbox_view(current_user, safe_args)
        context.update(
            save_error=_("%(field)s: %(message)s", field=exc.field, message=exc.message),
            save_form=form,
        )
        template = "inbox/_inbox.html" if request.htmx else "inbox/index.html"
        return render_template(template, **context), 422
    commit()
    target = url_for("inbox.index", **view.query)
    if not request.htmx:
        return redirect(target, 303)
    response = render_template("inbox/_inbox.html", **inbox_view(current_user, view.query))
    return response, 200, {"HX-Push-Url": target}


@bp.get("/inbox/views")
@role_required(*STAFF_DESK_ROLES)
def manage():
    return _manage_page()


@bp.post("/inbox/views/<uuid:view_id>")
@role_required(*STAFF_DESK_ROLES)
def update(view_id: uuid.UUID):
    view = _editable(view_id)
    visibility = request.form.get("visibility") if view.owner_id == current_user.id else None
    try:
        update_view(current_user, view, request.form.get("name", ""), visibility)
    except SavedViewError as exc:
        db.session.rollback()
        message = _("%(field)s: %(message)s", field=exc.field, message=exc.message)
        return _manage_page(errors={view_id: message}), 422
    commit()
    return redirect(url_for("saved_views.manage"), 303)


@bp.post("/inbox/views/<uuid:view_id>/delete")
@role_required(*STAFF_DESK_ROLES)
def delete(view_id: uuid.UUID):
    delete_view(current_user, _editable(view_id))
    commit()
    return redirect(url_for("saved_views.manage"), 303)


def _editable(view_id: uuid.UUID):
    view = find_view(current_user, view_id)
    if view is None:
        abort(404)
    if not can_edit(current_user, view):
        abort(403)
    return view


def _manage_page(errors: dict | None = None) -> str:
    return render_template(
        "inbox/saved_views.html",
        entries=sidebar_views(current_user, {}),
        view_choices=visibility_choices(current_user),
        errors=errors or {},
    )
