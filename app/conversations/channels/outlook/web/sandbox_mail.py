"""Inbound e-mail posted straight in while Outlook runs in the sandbox (demos, tests).

Without Graph credentials no real mail reaches the inbox: a Graph notification
only names a message, which cannot be fetched. So that ``make run`` can still
show an e-mail arrive (README, "See a message arrive"), this endpoint takes the
message resource Graph would have returned (``from``, ``subject``, ``body``, …),
stores it as an event like every webhook, and the processor threads it exactly
as a fetched message (:func:`app.conversations.channels.outlook.inbound.store_message`).

Only in the sandbox and only when asked (``SANDBOX_MAIL_INTAKE``, on for the
SQLite demo): otherwise it answers 404, so nobody can inject mail into a real
deployment. It keeps only what a demo mail needs (sender, subject, text, id): a
posted header, conversation id or recipient list cannot thread a mail into
someone's conversation or make it an order.
"""

from __future__ import annotations

import json

from flask import Blueprint, current_app, jsonify

from app.conversations.channels.outlook.inbound import store_message
from app.conversations.contacts.emails import is_email_address
from app.platform.extensions import csrf
from app.platform.json_api.errors import ApiError
from app.platform.models import InboundWebhookEvent
from app.platform.security.access import declare_blueprint, public
from app.platform.transports.registry import is_sandboxed
from app.platform.webhooks.processing import UnprocessableEvent
from app.platform.webhooks.recording import body_digest, parse_json, read_raw_body, store_event

SOURCE = "outlook_sandbox"
# RFC 5322's line limit for a subject, and a sender name's column.
MAX_SUBJECT, MAX_NAME, MAX_ID = 998, 255, 200

bp = Blueprint("outlook_sandbox_mail", __name__, url_prefix="/sandbox/outlook/mail")
declare_blueprint(
    bp, public("sandbox only (no Graph credentials, else 404): a demo's inbound e-mail")
)
csrf.exempt(bp)


# Outside /api/v1: a demo convenience, not part of the API partners and providers use.
@bp.post("")
def receive_mail():
    """Store a Graph-shaped message (404 outside the sandbox, 400 not JSON, 422 not mail)."""
    if not intake_open():
        raise ApiError(404, "not_found", "Mail is posted here only while Outlook is a sandbox.")
    raw_body = read_raw_body()
    message = parse_json(raw_body)
    problems = mail_problems(message)
    if problems:
        field, problem = next(iter(problems.items()))
        raise ApiError(422, "invalid_payload", f"{field} {problem}.", problems)
    kept = json.dumps(demo_mail(message)).encode()
    store_event(SOURCE, body_digest(kept), kept, event_type="message")
    return jsonify(status="received"), 202


def intake_open() -> bool:
    return bool(current_app.config.get("SANDBOX_MAIL_INTAKE")) and is_sandboxed("email_outlook")


def demo_mail(message: dict) -> dict:
    """Only the fields a demo mail needs; Graph's shape, so the fetched-mail path reads it."""
    sender = message["from"]["emailAddress"]
    kept = {
        "from": {"emailAddress": {"address": sender["address"], "name": sender.get("name") or ""}},
        "subject": message.get("subject") or "",
        "body": {
            "contentType": "html" if message["body"].get("contentType") == "html" else "text",
            "content": message["body"]["content"],
        },
    }
    if message.get("id"):
        kept["id"] = message["id"]
    return kept


def mail_problems(message) -> dict[str, str]:
    """What keeps ``message`` from being read as an inbound mail, by field."""
    if not isinstance(message, dict):
        return {"body": "must be a JSON object"}
    problems = {}
    sender = message.get("from")
    sender = sender.get("emailAddress") if isinstance(sender, dict) else None
    address = sender.get("address") if isinstance(sender, dict) else None
    if not isinstance(address, str) or not is_email_address(address):
        problems["from.emailAddress.address"] = "must be an e-mail address"
    name = sender.get("name") if isinstance(sender, dict) else None
    if name is not None and not (isinstance(name, str) and len(name) <= MAX_NAME):
        problems["from.emailAddress.name"] = f"must be text of at most {MAX_NAME} characters"
    subject = message.get("subject")
    if subject is not None and not (isinstance(subject, str) and len(subject) <= MAX_SUBJECT):
        problems["subject"] = f"must be text of at most {MAX_SUBJECT} characters"
    body = message.get("body")
    if not isinstance(body, dict) or not isinstance(body.get("content"), str):
        problems["body.content"] = "must be the message text"
    elif not body["content"].strip() and not (isinstance(subject, str) and subject.strip()):
        problems["body.content"] = "must not be empty without a subject"
    if "id" in message and not (isinstance(message["id"], str) and len(message["id"]) <= MAX_ID):
        problems["id"] = f"must be a string of at most {MAX_ID} characters"
    return problems


def process_event(event: InboundWebhookEvent) -> None:
    """Thread the posted message in the default mailbox, as a fetched one would be."""
    if not intake_open():
        # Stored while the sandbox was open, processed after Graph was configured.
        raise UnprocessableEvent("sandbox mail intake is closed")
    message = demo_mail(json.loads(event.raw_body))
    # A post without Graph's id gets one from its body, so a repost is the same mail.
    message.setdefault("id", f"sandbox-{event.dedupe_key[:32]}")
    store_message(None, message, [])
