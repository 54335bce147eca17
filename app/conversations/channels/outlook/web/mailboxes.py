"""Admin page of the Outlook mailboxes: list, add, edit team/name/signature, disable."""

from __future__ import annotations

import uuid

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from app.conversations.channels.outlook.mailboxes import (
    InvalidMailbox,
    MailboxForm,
    add_mailbox,
    get_mailbox,
    list_mailboxes,
    set_active,
    subscribed_until,
    teams,
    update_mailbox,
)
from app.platform.auth.decorators import role_required
from app.platform.extensions import db
from app.platform.models.enums import Role
from app.platform.transactions import commit

bp = Blueprint("outlook_mailboxes", __name__, url_prefix="/admin/mailboxes")


def _page(status: int = 200, **extra):
    mailboxes = list_mailboxes()
    return (
        render_template(
            "outlook/mailboxes.html",
            mailboxes=mailboxes,
            expiries={mailbox.id: subscribed_until(mailbox) for mailbox in mailboxes},
            teams=teams(),
            **extra,
        ),
        status,
    )


def _form() -> MailboxForm:
    return MailboxForm(
        display_name=request.form.get("display_name", ""),
        team_id=request.form.get("team_id", ""),
        signature=request.form.get("signature", ""),
    )


def _mailbox_or_404(mailbox_id: uuid.UUID):
    mailbox = get_mailbox(mailbox_id)
    if mailbox is None:
        abort(404, _("There is no such mailbox."))
    return mailbox


@bp.get("/")
@role_required(Role.ADMIN)
def index():
    page = _page()
    # The default mailbox is made on first use; keep it.
    commit()
    return page


@bp.post("/")
@role_required(Role.ADMIN)
def add():
    address = request.form.get("address", "")
    try:
        mailbox = add_mailbox(address, _form())
    except InvalidMailbox as exc:
        db.session.rollback()
        return _page(422, add_errors=exc.fields, add_draft=request.form)
    commit()
    flash(
        _(
            "Mailbox %(address)s added; its mail is read within 15 minutes.",
            address=mailbox.address,
        ),
        "info",
    )
    return redirect(url_for("outlook_mailboxes.index"), 303)


@bp.post("/<uuid:mailbox_id>")
@role_required(Role.ADMIN)
def edit(mailbox_id: uuid.UUID):
    mailbox = _mailbox_or_404(mailbox_id)
    try:
        update_mailbox(mailbox, _form())
    except InvalidMailbox as exc:
        db.session.rollback()
        key = str(mailbox_id)
        return _page(422, edit_errors={key: exc.fields}, edit_drafts={key: request.form})
    commit()
    flash(_("Mailbox %(address)s saved.", address=mailbox.address), "info")
    return redirect(url_for("outlook_mailboxes.index"), 303)


@bp.post("/<uuid:mailbox_id>/active")
@role_required(Role.ADMIN)
def toggle(mailbox_id: uuid.UUID):
    mailbox = _mailbox_or_404(mailbox_id)
    active = request.form.get("active") == "1"
    try:
        set_active(mailbox, active)
    except InvalidMailbox as exc:
        db.session.rollback()
        return _page(422, edit_errors={str(mailbox_id): exc.fields})
    commit()
    if active:
        flash(_("Mailbox %(address)s is read again.", address=mailbox.address), "info")
    else:
        flash(_("Mailbox %(address)s is disabled.", address=mailbox.address), "info")
    return redirect(url_for("outlook_mailboxes.index"), 303)
