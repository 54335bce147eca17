from flask import Blueprint

from app.extensions import csrf

bp = Blueprint("outlook_webhook", __name__, url_prefix="/api/v1/webhooks/outlook")
csrf.exempt(bp)
