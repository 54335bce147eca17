from flask import Blueprint

from app.extensions import csrf

bp = Blueprint("sms_webhook", __name__, url_prefix="/api/v1/webhooks/sms")
csrf.exempt(bp)
