"""The phone's blueprint (``/m``): the visit card's routes (:mod:`.routes`) and the
order's conversation (:mod:`.conversation`) both join it."""

from flask import Blueprint

from app.platform.models.enums import Role

bp = Blueprint("mobile", __name__, url_prefix="/m")
PHONE_ROLES = (Role.TECHNICIAN, Role.TEAM_LEAD, Role.ADMIN)
