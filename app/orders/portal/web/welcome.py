"""``/portal/welcome/<token>``: an invited partner user chooses their password.

Open without a session (the link is the credential); a link that was used,
expired or forged is a 404, and one replaced by a newer link is a 404 that
says so. Signing in afterwards asks for two-factor setup.
"""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _

from app.orders.partners.config import ConfigInvalid
from app.orders.partners.portal_users import (
    InvitationRefused,
    redeem_invitation,
    set_chosen_password,
)
from app.platform.extensions import db
from app.platform.security.access import SESSION_CSRF, declare_blueprint, public
from app.platform.transactions import commit
from app.platform.ui import no_store

bp = Blueprint("portal_welcome", __name__, url_prefix="/portal")
declare_blueprint(
    bp, public("an invited partner user's signed set-password link", csrf=SESSION_CSRF)
)


@bp.route("/welcome/<token>", methods=["GET", "POST"])
def set_password(token: str):
    try:
        user = redeem_invitation(token)
    except InvitationRefused as exc:
        abort(404, str(exc))
    if request.method == "POST":
        form = request.form
        try:
            set_chosen_password(user, form.get("password", ""), form.get("password_again", ""))
        except ConfigInvalid as exc:
            db.session.rollback()
            return _page(user, exc.fields)
        commit()
        flash(_("Your password is set. Sign in, then set up two-factor sign-in."), "info")
        return redirect(url_for("auth.login"), 303)
    return _page(user)


def _page(user, errors: dict | None = None):
    errors = errors or {}
    page = render_template("portal/welcome.html", user=user, errors=errors)
    return no_store(make_response(page, 422 if errors else 200))
