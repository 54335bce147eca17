from flask import Blueprint

bp = Blueprint("webhook_events", __name__, url_prefix="/admin/events")
