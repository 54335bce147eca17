"""``/m/``: today's visits on a phone."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask_login import current_user

from app.auth.decorators import role_required
from app.mobile.services import local_today, visits_for
from app.models.enums import Role

bp = Blueprint("mobile", __name__, url_prefix="/m")


@bp.get("/")
@role_required(Role.TECHNICIAN, Role.TEAM_LEAD, Role.ADMIN)
def today():
    day = local_today()
    return render_template("mobile/today.html", day=day, visits=visits_for(current_user.id, day))
