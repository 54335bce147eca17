"""Sending SMS through a Twilio-compatible Messages API.

``POST {SMS_API_BASE}/2010-04-01/Accounts/{sid}/Messages.json`` with HTTP basic
auth and a form body; the answer's ``sid`` is the message's id in every later
status callback. Built by :mod:`app.platform.transports.registry` when ``SMS_ACCOUNT_SID``,
``SMS_AUTH_TOKEN`` and ``SMS_FROM`` are set.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

import requests

from app.platform.transports.base import OutboundMessage, SendResult, TransportError
from app.platform.transports.health import record_failure, record_success

log = logging.getLogger(__name__)

DEFAULT_API_BASE = "https://api.twilio.com"
# (connect, read) seconds: a provider that hangs must not hold a worker.
TIMEOUT = (5, 20)
# Twilio refuses longer bodies (error 21617); saying so here saves a round trip.
MAX_BODY_LENGTH = 1600
# GSM-7, the SMS alphabet, has no no-break spaces: one (Babel writes "€\u00a012,50")
# would send the whole text as UCS-2, 70 characters a part instead of 160.
GSM_SPACES = str.maketrans({"\u00a0": " ", "\u202f": " "})
# Twilio error codes meaning our credentials or account are the problem.
ACCOUNT_ERRORS = {20003, 20005, 20008}


class SmsTransport:
    """One outbound SMS per ``send``; raises :class:`TransportError` when it fails."""

    provider = "sms"

    def __init__(self, config: Mapping) -> None:
        self.account_sid = config["SMS_ACCOUNT_SID"]
        self._auth_token = config["SMS_AUTH_TOKEN"]
        self.sender = config["SMS_FROM"]
        base = (config.get("SMS_API_BASE") or DEFAULT_API_BASE).rstrip("/")
        self.url = f"{base}/2010-04-01/Accounts/{self.account_sid}/Messages.json"
        # Where Twilio reports delivery; must match what the webhook verifies against.
        self.status_callback = config["PUBLIC_BASE_URL"].rstrip("/") + "/api/v1/webhooks/sms"

    def send(self, message: OutboundMessage) -> SendResult:
        if len(message.body) > MAX_BODY_LENGTH:
            raise TransportError(
                f"An SMS can be at most {MAX_BODY_LENGTH} characters.", retryable=False
            )
        form = {
            "To": message.recipient,
            "From": self.sender,
            "Body": message.body.translate(GSM_SPACES),
            "StatusCallback": self.status_callback,
        }
        try:
            response = requests.post(
                self.url, data=form, auth=(self.account_sid, self._auth_token), timeout=TIMEOUT
            )
        except requests.RequestException as exc:
            # The exception text names the host at most; the token is never in it.
            reason = f"SMS provider unreachable: {type(exc).__name__}"
            record_failure(self.provider, reason)
            raise TransportError(reason, retryable=True) from exc
        if response.status_code in (200, 201):
            sid = _json(response).get("sid")
            if not sid:
                record_failure(self.provider, "SMS provider answered without a message sid")
                raise TransportError(
                    "The SMS provider answered without a message sid.", retryable=True
                )
            record_success(self.provider)
            return SendResult(external_message_id=sid, status="sent")
        raise self._failure(response)

    def _failure(self, response: requests.Response) -> TransportError:
        body = _json(response)
        code = body.get("code")
        detail = str(body.get("message") or response.reason or "no message")[:500]
        text = (
            f"Twilio error {code}: {detail}" if code else f"HTTP {response.status_code}: {detail}"
        )
        retryable = response.status_code == 429 or response.status_code >= 500
        unhealthy = response.status_code in (401, 403) or code in ACCOUNT_ERRORS
        record_failure(self.provider, text, unhealthy=unhealthy)
        log.warning("SMS send refused (%s): %s", response.status_code, text)
        return TransportError(text, retryable=retryable, code=str(code) if code else None)


def _json(response: requests.Response) -> dict:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}
