from flask import Blueprint

from app.extensions import csrf

bp = Blueprint("whatsapp_webhook", __name__, url_prefix="/api/v1/webhooks/whatsapp")
csrf.exempt(bp)
