"""The customer sidebar of the workspace: shown beside a conversation, edited inline."""

from __future__ import annotations

from flask import Blueprint, abort, redirect, render_template, request, url_for
from flask_login import current_user

from app.conversations.contacts.services import InvalidContact
from app.conversations.workspace.customer import customer_panel, edit_contact
from app.conversations.workspace.refusal import thread_or_refuse
from app.platform.auth.decorators import STAFF_DESK_ROLES, login_required, role_required
from app.platform.extensions import db
from app.platform.transactions import commit

bp = Blueprint("customer", __name__)


def _panel(thread, status: int = 200, *, error=None, form=None):
    html = render_template(
        "threads/_customer.html",
        thread=thread,
        customer=customer_panel(thread, current_user),
        contact_error=error,
        contact_form=form,
    )
    return html, status


@bp.get("/threads/<thread_id>/customer")
@login_required
def show(thread_id):
    return _panel(thread_or_refuse(thread_id))


@bp.post("/threads/<thread_id>/customer")
@role_required(*STAFF_DESK_ROLES)
def update(thread_id):
    """Save name, phone and e-mail; a bad value is refused naming its field (422)."""
    thread = thread_or_refuse(thread_id)
    if thread.contact is None:
        abort(404, "This conversation has no customer.")
    form = {key: request.form.get(key, "") for key in ("name", "phone", "email")}
    try:
        edit_contact(thread.contact.id, **form)
    except InvalidContact as exc:
        db.session.rollback()
        return _panel(thread_or_refuse(thread_id), 422, error=exc, form=form)
    commit()
    if not request.htmx:
        return redirect(url_for("threads.show", thread_id=thread.id), 303)
    return _panel(thread)
