from flask import Blueprint

from app.auth.decorators import STAFF_DESK_ROLES, role_required

bp = Blueprint("tasks", __name__)


@bp.get("/tasks")
@role_required(*STAFF_DESK_ROLES)
def board():
    return "Task board under construction"
