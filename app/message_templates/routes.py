from flask import Blueprint

from app.auth.decorators import role_required
from app.models.enums import Role

bp = Blueprint("message_templates", __name__, url_prefix="/admin/templates")


@bp.get("/")
@role_required(Role.ADMIN)
def index():
    return "Templates under construction"
