"""Admin pages: users and roles, and the audit log of every admin change."""

from __future__ import annotations

from flask import Blueprint, render_template, request

from app.admin.services import list_users
from app.audit.log import parse_filter
from app.audit.presenters import audit_page
from app.auth.decorators import role_required
from app.database import utcnow
from app.models.enums import Role

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.get("/users")
@role_required(Role.ADMIN)
def users():
    return render_template("admin/users.html", users=list_users(), now=utcnow())


@bp.get("/audit")
@role_required(Role.ADMIN)
def audit():
    """Who changed what and when; filtered by a GET form, so a view can be shared as a link."""
    f, errors = parse_filter(request.args)
    context = audit_page(f, errors, request.args)
    return render_template("admin/audit.html", **context), (400 if errors else 200)
