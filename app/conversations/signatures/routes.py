"""``/settings/signature``: an agent's own signature; an admin edits anyone's.

A mailbox's signature is edited on the channels page (``app.conversations.channels.routes``).
"""

from __future__ import annotations

import uuid

from flask import Blueprint, abort, flash, redirect, render_template, request
from flask_babel import gettext as _
from flask_login import current_user

from app.conversations.signatures.services import (
    MAX_SIGNATURE_LENGTH,
    InvalidSignature,
    save_agent_signature,
    user_whose_signature,
)
from app.platform.auth.decorators import login_required, require_second_factor
from app.platform.extensions import db
from app.platform.transactions import commit

bp = Blueprint("signatures", __name__)


def _owner(user_id: uuid.UUID | None):
    user = user_whose_signature(current_user, user_id)
    if user is None:
        # Only admins edit other people's signatures; the same answer for
        # "no such user" as for "not yours".
        abort(404, _("There is no such user."))
    if user.id != current_user.id:
        # Changing someone else's signature is an admin's power, so it asks what
        # every admin page asks: a sign-in with a second factor.
        require_second_factor()
    return user


def _page(user, status: int = 200, error: str | None = None, text: str | None = None):
    return (
        render_template(
            "signatures/settings.html",
            owner=user,
            own=user.id == current_user.id,
            text=user.email_signature if text is None else text,
            error=error,
            max_length=MAX_SIGNATURE_LENGTH,
        ),
        status,
    )


@bp.get("/settings/signature")
@bp.get("/settings/signature/<uuid:user_id>")
@login_required
def edit(user_id: uuid.UUID | None = None):
    return _page(_owner(user_id))


@bp.post("/settings/signature")
@bp.post("/settings/signature/<uuid:user_id>")
@login_required
def save(user_id: uuid.UUID | None = None):
    user = _owner(user_id)
    text = request.form.get("signature", "")
    try:
        save_agent_signature(user, text)
    except InvalidSignature as exc:
        db.session.rollback()
        return _page(user, 422, error=_("Signature: %(problem)s", problem=exc), text=text)
    commit()
    flash(_("Signature saved."), "info")
    return redirect(request.path, 303)
