from flask import Blueprint

from app.extensions import csrf

bp = Blueprint("sendgrid_webhook", __name__, url_prefix="/api/v1/webhooks/sendgrid")
csrf.exempt(bp)
