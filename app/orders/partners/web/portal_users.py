"""``/partners/<id>/portal-users``: admins invite and deactivate a partner's portal users."""

from __future__ import annotations

import uuid

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user

from app.orders.partners import management
from app.orders.partners.config import ConfigInvalid
from app.orders.partners.portal_users import (
    INVITATION_MAX_AGE,
    deactivate_portal_user,
    find_portal_user,
    invite_portal_user,
    renew_invitation,
    send_invitation,
)
from app.platform.auth.decorators import role_required
from app.platform.extensions import db
from app.platform.models.enums import Role
from app.platform.transactions import commit
from app.platform.ui import no_store

bp = Blueprint("partner_portal_users", __name__, url_prefix="/partners")


def _partner(partner_id: uuid.UUID):
    partner = management.find_partner(partner_id)
    if partner is None:
        abort(404, _("There is no such partner."))
    return partner


def _back(partner):
    return redirect(url_for("partners.show", partner_id=partner.id) + "#portal-users", 303)


@bp.post("/<uuid:partner_id>/portal-users")
@role_required(Role.ADMIN)
def invite(partner_id):
    partner = _partner(partner_id)
    form = request.form
    try:
        user, token = invite_portal_user(
            partner,
            form.get("name", ""),
            form.get("email", ""),
            form.get("language", ""),
            current_user,
        )
    except ConfigInvalid as exc:
        db.session.rollback()
        for field, message in exc.fields.items():
            flash(f"{field}: {message}", "error")
        return _back(partner)
    return _hand_over(partner, user, token)


@bp.post("/<uuid:partner_id>/portal-users/<uuid:user_id>/link")
@role_required(Role.ADMIN)
def new_link(partner_id, user_id):
    """A fresh link for a user who lost theirs or their password (sets a new password).

    The links handed out before it stop working.
    """
    partner = _partner(partner_id)
    user = find_portal_user(partner, user_id)
    if user is None or not user.is_active_account:
        abort(404)
    return _hand_over(partner, user, renew_invitation(user, current_user))


def _hand_over(partner, user, token: str):
    """Mail the link, or show it once when no mail is configured; commits."""
    # Built on PUBLIC_BASE_URL (the Host header is not trusted), like other mailed links.
    base = current_app.config["PUBLIC_BASE_URL"].rstrip("/")
    link = base + url_for("portal_welcome.set_password", token=token)
    mailed = send_invitation(user, partner, link)
    commit()
    page = render_template(
        "partners/portal_user_invited.html",
        partner=partner,
        user=user,
        link=None if mailed else link,
        days=INVITATION_MAX_AGE.days,
    )
    return no_store(make_response(page, 201))


@bp.post("/<uuid:partner_id>/portal-users/<uuid:user_id>/deactivate")
@role_required(Role.ADMIN)
def deactivate(partner_id, user_id):
    partner = _partner(partner_id)
    user = find_portal_user(partner, user_id)
    if user is None:
        abort(404)
    if user.is_active_account:
        deactivate_portal_user(user, current_user)
        commit()
    flash(_("%(name)s can no longer sign in to the portal.", name=user.name), "info")
    return _back(partner)
