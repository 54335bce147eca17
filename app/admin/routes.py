"""Admin pages: users and roles."""

from __future__ import annotations

from flask import Blueprint, render_template

from app.admin.services import list_users
from app.auth.decorators import role_required
from app.database import utcnow
from app.models.enums import Role

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.get("/users")
@role_required(Role.ADMIN)
def users():
    return render_template("admin/users.html", users=list_users(), now=utcnow())
