"""Admin pages: users and roles, and the audit log of every admin change."""

from __future__ import annotations

import uuid

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_login import current_user

from app.platform.admin.services import find_user, list_users, reset_two_factor
from app.platform.audit.log import parse_filter
from app.platform.audit.presenters import audit_page
from app.platform.auth.decorators import role_required
from app.platform.auth.signin import client_address
from app.platform.auth.two_factor import users_with_two_factor
from app.platform.database import utcnow
from app.platform.models.enums import Role
from app.platform.transactions import commit

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.get("/users")
@role_required(Role.ADMIN)
def users():
    return render_template(
        "admin/users.html", users=list_users(), two_factor=users_with_two_factor(), now=utcnow()
    )


@bp.post("/users/<uuid:user_id>/two-factor/reset")
@role_required(Role.ADMIN)
def reset_user_two_factor(user_id: uuid.UUID):
    """A user lost their authenticator: remove it so they can set up a new one."""
    user = find_user(user_id)
    if user is None:
        abort(404, gettext("There is no such user."))
    admin = current_user._get_current_object()
    if reset_two_factor(user, admin=admin, ip_address=client_address()):
        commit()
        flash(
            gettext(
                "Two-factor sign-in of %(name)s is reset and their sessions are ended. "
                "They sign in with their password and set it up again.",
                name=user.name,
            ),
            "info",
        )
    else:
        flash(gettext("%(name)s has no two-factor sign-in to reset.", name=user.name), "info")
    return redirect(url_for("admin.users"))


@bp.get("/audit")
@role_required(Role.ADMIN)
def audit():
    """Who changed what and when; filtered by a GET form, so a view can be shared as a link."""
    f, errors = parse_filter(request.args)
    context = audit_page(f, errors, request.args)
    return render_template("admin/audit.html", **context), (400 if errors else 200)
