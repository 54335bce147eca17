"""Inbound e-mail posted straight in while Outlook runs in the sandbox (demos, tests).

Without Graph credentials no real mail reaches the inbox: a Graph notification
only names a message, which cannot be fetched. So that ``make run`` can still
show an e-mail arrive (README, "See a message arrive"), this endpoint takes the
message resource Graph would have returned (``from``, ``subject``, ``body``, …),
stores it as an event like every webhook, and the processor threads it exactly
as a fetched message (:func:`app.channels.outlook.inbound.store_message`).

Only in the sandbox: with Graph configured it answers 404, so nobody can inject
mail into a real deployment.
"""

from __future__ import annotations

import json
import re

from flask import Blueprint, jsonify

from app.api.errors import ApiError
from app.channels.outlook.inbound import store_message
from app.extensions import csrf
from app.models import InboundWebhookEvent
from app.security.access import declare_blueprint, public
from app.transports.registry import is_sandboxed
from app.webhooks.events import body_digest, parse_json, read_raw_body, store_event

SOURCE = "outlook_sandbox"
ADDRESS = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")

bp = Blueprint("outlook_sandbox_mail", __name__, url_prefix="/api/v1/webhooks/outlook/sandbox")
declare_blueprint(
    bp, public("sandbox only (no Graph credentials, else 404): a demo's inbound e-mail")
)
csrf.exempt(bp)


@bp.post("")
def receive_mail():
    """Store a Graph-shaped message (404 outside the sandbox, 400 not JSON, 422 not mail)."""
    if not is_sandboxed("email_outlook"):
        raise ApiError(404, "not_found", "Mail is posted here only while Outlook is a sandbox.")
    raw_body = read_raw_body()
    problems = mail_problems(parse_json(raw_body))
    if problems:
        field, problem = next(iter(problems.items()))
        raise ApiError(422, "invalid_payload", f"{field} {problem}.", problems)
    store_event(SOURCE, body_digest(raw_body), raw_body, event_type="message")
    return jsonify(status="received"), 202


def mail_problems(message: dict) -> dict[str, str]:
    """What keeps ``message`` from being read as an inbound mail, by field."""
    problems = {}
    sender = (message.get("from") or {}).get("emailAddress") if isinstance(
        message.get("from"), dict
    ) else None
    address = sender.get("address") if isinstance(sender, dict) else None
    if not isinstance(address, str) or not ADDRESS.match(address):
        problems["from.emailAddress.address"] = "must be an e-mail address"
    body = message.get("body")
    if not isinstance(body, dict) or not isinstance(body.get("content"), str):
        problems["body.content"] = "must be the message text"
    elif not body["content"].strip() and not str(message.get("subject") or "").strip():
        problems["body.content"] = "must not be empty without a subject"
    if "id" in message and not isinstance(message["id"], str):
        problems["id"] = "must be a string"
    return problems


def process_event(event: InboundWebhookEvent) -> None:
    """Thread the posted message in the default mailbox, as a fetched one would be."""
    message = json.loads(event.raw_body)
    # A post without Graph's id gets one from its body, so a repost is the same mail.
    message.setdefault("id", f"sandbox-{event.dedupe_key[:32]}")
    store_message(None, message, [])
