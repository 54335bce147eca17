from flask import Blueprint

bp = Blueprint("channels_admin", __name__, url_prefix="/admin/channels")
