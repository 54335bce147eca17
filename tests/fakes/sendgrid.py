"""A fake SendGrid: v3 Mail Send, and the signed event webhook posts SendGrid makes.

``POST /v3/mail/send`` checks the bearer key and the body's required parts like
SendGrid and answers 202 with an ``X-Message-Id``. The fake owns a P-256 key
pair: :attr:`verification_key` is the public half as SendGrid's settings page
shows it (base64 DER), and :meth:`signed_post` signs an event batch with the
private half, exactly as the Signed Event Webhook does.
"""

from __future__ import annotations

import base64
import itertools
import json
import time
import uuid

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from flask import jsonify, request

from tests.fakes import FakeServer

API_KEY = "SG.test-key"


class FakeSendGrid(FakeServer):
    def __init__(self, api_key: str = API_KEY) -> None:
        super().__init__("fake-sendgrid")
        self.api_key = api_key
        self._private_key = ec.generate_private_key(ec.SECP256R1())
        self._ids = itertools.count(1)
        # X-Message-Id of every accepted mail, in order.
        self.message_ids: list[str] = []

        @self.app.post("/v3/mail/send")
        def mail_send():
            if request.headers.get("Authorization") != f"Bearer {self.api_key}":
                return _errors(
                    401, "The provided authorization grant is invalid, expired, or revoked"
                )
            body = request.get_json(silent=True) or {}
            problems = _mail_problems(body)
            if problems:
                return _errors(400, *problems)
            message_id = f"fake{next(self._ids):04d}{uuid.uuid4().hex[:12]}"
            self.message_ids.append(message_id)
            return "", 202, {"X-Message-Id": message_id}

    @property
    def verification_key(self) -> str:
        der = self._private_key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        return base64.b64encode(der).decode()

    def mails(self) -> list[dict]:
        """The JSON bodies of every accepted or refused Mail Send call, in order."""
        return [r.json() for r in self.requests_to("/v3/mail/send", "POST")]

    def event(self, kind: str, message_id: str, email: str, **fields) -> dict:
        """One event as SendGrid reports it about the mail with that X-Message-Id."""
        event = {
            "email": email,
            "timestamp": int(time.time()),
            "smtp-id": f"<{message_id}@ismtpd0001p1ams1.sendgrid.net>",
            "event": kind,
            "category": ["transactional"],
            "sg_event_id": base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("="),
            "sg_message_id": f"{message_id}.filterdrecv-5645d9c87f-xyz12-1-64B4F7E1-9.0",
        }
        event.update(fields)
        return event

    def sign(self, payload: bytes) -> str:
        """The base64 DER ECDSA P-256/SHA-256 signature SendGrid would send."""
        signature = self._private_key.sign(payload, ec.ECDSA(hashes.SHA256()))
        return base64.b64encode(signature).decode()

    def signed_post(self, events: list[dict], timestamp: str | None = None) -> tuple[bytes, dict]:
        """The raw body and headers of an event webhook post, signed."""
        body = json.dumps(events).encode()
        timestamp = timestamp or str(int(time.time()))
        headers = {
            "Content-Type": "application/json",
            "X-Twilio-Email-Event-Webhook-Signature": self.sign(timestamp.encode() + body),
            "X-Twilio-Email-Event-Webhook-Timestamp": timestamp,
        }
        return body, headers


def _mail_problems(body: dict) -> list[str]:
    problems = []
    personalizations = body.get("personalizations")
    if not isinstance(personalizations, list) or not personalizations:
        problems.append("The personalizations field is required and must have at least one item.")
    else:
        for p in personalizations:
            if not p.get("to") or not all("@" in (t.get("email") or "") for t in p["to"]):
                problems.append("Each personalization needs a to array of e-mail addresses.")
    if "@" not in ((body.get("from") or {}).get("email") or ""):
        problems.append("The from object must be provided for every email send.")
    if not body.get("template_id") and not body.get("content"):
        problems.append(
            "Unless a valid template_id is provided, the content parameter is required."
        )
    return problems


def _errors(status: int, *messages: str):
    return jsonify(
        {"errors": [{"message": m, "field": None, "help": None} for m in messages]}
    ), status
