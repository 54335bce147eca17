"""Admin page of channels: each provider's state, a test send, the sandbox outbox,
and each Outlook mailbox's signature."""

from __future__ import annotations

import uuid

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.conversations.channels.status import provider_states, sandbox_outbox
from app.conversations.channels.testing import InvalidRecipient, check_recipient
from app.conversations.signatures.services import (
    InvalidSignature,
    mailbox,
    mailboxes,
    save_mailbox_signature,
)
from app.platform.auth.decorators import role_required
from app.platform.extensions import db
from app.platform.jobs.queues import enqueue
from app.platform.models.enums import Role
from app.platform.transactions import commit

bp = Blueprint("channels_admin", __name__, url_prefix="/admin/channels")


def _page(status: int = 200, **extra):
    return (
        render_template(
            "channels/index.html",
            providers=provider_states(),
            sandbox_sends=sandbox_outbox(),
            mailboxes=mailboxes(),
            **extra,
        ),
        status,
    )


@bp.get("/")
@role_required(Role.ADMIN)
def index():
    return _page()


@bp.post("/test")
@role_required(Role.ADMIN)
def send_test():
    provider = request.form.get("provider", "")
    try:
        recipient = check_recipient(provider, request.form.get("recipient", ""))
    except InvalidRecipient as exc:
        return _page(422, test_errors={provider: str(exc)})
    enqueue(
        "app.conversations.channels.testing.send_test", provider, recipient, str(current_user.id)
    )
    flash(
        _(
            "Test via %(provider)s queued; the outcome arrives as a notification.",
            provider=provider,
        ),
        "info",
    )
    return redirect(url_for("channels_admin.index"), 303)


@bp.post("/<uuid:channel_id>/signature")
@role_required(Role.ADMIN)
def save_signature(channel_id: uuid.UUID):
    channel = mailbox(channel_id)
    if channel is None:
        abort(404, _("There is no such mailbox."))
    text = request.form.get("signature", "")
    try:
        save_mailbox_signature(channel, text)
    except InvalidSignature as exc:
        db.session.rollback()
        key = str(channel_id)
        return _page(
            422,
            signature_errors={key: _("Signature: %(error)s", error=exc)},
            signature_drafts={key: text},
        )
    commit()
    flash(_("Signature of %(channel)s saved.", channel=channel.channel_name), "info")
    return redirect(url_for("channels_admin.index", _anchor="signatures"), 303)
