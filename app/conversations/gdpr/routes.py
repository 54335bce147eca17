"""Admins' privacy pages: find a contact, see what is stored, export it, erase it."""

from __future__ import annotations

import uuid

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext
from flask_login import current_user

from app.conversations.gdpr.erasure import NotAPerson, erase_contact
from app.conversations.gdpr.export import zip_chunks
from app.conversations.gdpr.services import (
    CATEGORY_LABELS,
    CONFIRMATION_WORD,
    confirmation_matches,
    confirmation_words,
    export_contact,
    find_contact,
    find_contacts,
    holdings,
    last_erasure,
)
from app.conversations.gdpr.tombstones import lift_tombstone
from app.platform.auth.decorators import role_required
from app.platform.extensions import db
from app.platform.models import Contact
from app.platform.models.enums import Role
from app.platform.transactions import commit
from app.platform.ui import no_store

bp = Blueprint("gdpr", __name__, url_prefix="/admin")


def _contact(contact_id: uuid.UUID) -> Contact:
    contact = find_contact(contact_id)
    if contact is None:
        abort(404, gettext("There is no such contact."))
    return contact


def _page(contact: Contact, status: int = 200, *, error: str | None = None):
    html = render_template(
        "gdpr/privacy.html",
        contact=contact,
        holdings=holdings(contact),
        erasure=last_erasure(contact),
        error=error,
        confirmation_word=gettext(CONFIRMATION_WORD),
        confirmation_words=confirmation_words(),
        category_labels=CATEGORY_LABELS,
    )
    return no_store(Response(html, status))


@bp.get("/privacy")
@role_required(Role.ADMIN)
def search():
    query = request.args.get("q", "")
    return no_store(
        Response(render_template("gdpr/search.html", query=query, contacts=find_contacts(query)))
    )


@bp.get("/contacts/<uuid:contact_id>/privacy")
@role_required(Role.ADMIN)
def show(contact_id: uuid.UUID):
    return _page(_contact(contact_id))


@bp.post("/contacts/<uuid:contact_id>/export")
@role_required(Role.ADMIN)
def export(contact_id: uuid.UUID):
    """The ZIP download; the audit entry is committed before the first byte goes out.

    The stream reads only files named in the export, no request or database, so
    it needs no request context while the response is sent.
    """
    export = export_contact(
        _contact(contact_id), actor_id=current_user.id, ip_address=request.remote_addr
    )
    commit()
    response = Response(zip_chunks(export), mimetype="application/zip")
    response.headers["Content-Disposition"] = f'attachment; filename="contact-{contact_id}.zip"'
    return no_store(response)


@bp.post("/contacts/<uuid:contact_id>/erase")
@role_required(Role.ADMIN)
def erase(contact_id: uuid.UUID):
    contact = _contact(contact_id)
    if not confirmation_matches(request.form.get("confirmation")):
        message = gettext(
            "Confirmation: type %(word)s exactly as shown, in capitals and without spaces. "
            "Nothing was erased.",
            word=gettext(CONFIRMATION_WORD),
        )
        return _page(contact, 422, error=message)
    try:
        report = erase_contact(contact.id, actor_id=current_user.id, ip_address=request.remote_addr)
    except NotAPerson:
        db.session.rollback()
        message = gettext("This is an organization's contact: it holds no one's personal data.")
        return _page(contact, 409, error=message)
    commit()
    if report.changed:
        flash(gettext("The contact's personal data was erased."), "success")
    else:
        flash(gettext("Nothing was left to erase: this contact was erased before."), "info")
    return redirect(url_for("gdpr.show", contact_id=contact.id), 303)


@bp.post("/privacy/tombstones/lift")
@role_required(Role.ADMIN)
def lift():
    """The explicit act that lets an erased address or number come in again."""
    identifier = (request.form.get("identifier") or "").strip()
    if not identifier:
        flash(gettext("Identifier: enter the e-mail address or phone number."), "error")
        return redirect(url_for("gdpr.search"), 303)
    lifted = lift_tombstone(identifier, actor_id=current_user.id, ip_address=request.remote_addr)
    commit()
    if lifted:
        flash(gettext("This address or number may come in again."), "success")
    else:
        flash(gettext("No erased person had this address or number."), "info")
    return redirect(url_for("gdpr.search"), 303)
