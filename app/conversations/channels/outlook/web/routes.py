"""The Graph webhook: subscription validation, change and lifecycle notifications.

Graph wants an answer within a few seconds and retries otherwise, so this only
verifies and stores; the message is fetched by the processing job.
"""

from flask import Blueprint, Response, jsonify, request

from app.conversations.channels.outlook.notifications import record_notifications
from app.platform.extensions import csrf
from app.platform.json_api.errors import ApiError
from app.platform.security.access import declare_blueprint, signed
from app.platform.transactions import commit
from app.platform.webhooks.recording import parse_json, read_raw_body

bp = Blueprint("outlook_webhook", __name__, url_prefix="/api/v1/webhooks/outlook")
declare_blueprint(bp, signed("Microsoft Graph's clientState and validation token"))
csrf.exempt(bp)

# Graph's tokens are a sentence and a GUID; anything far longer is not Graph.
MAX_VALIDATION_TOKEN = 2048


@bp.post("")
def receive_notifications():
    """Echo a validation token, or verify and store a notification collection."""
    token = request.args.get("validationToken")
    if token is not None:
        return _validation_echo(token)
    payload = parse_json(read_raw_body())
    new = record_notifications(payload)
    commit()
    return jsonify({"success": True, "new_events": new}), 202


def _validation_echo(token: str) -> Response:
    # request.args is already URL-decoded, which is what Graph expects back.
    if len(token) > MAX_VALIDATION_TOKEN:
        raise ApiError(400, "invalid_validation_token", "The validation token is too long.")
    response = Response(token, status=200, mimetype="text/plain")
    # The token is reflected: make sure no browser ever sniffs it as HTML.
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
