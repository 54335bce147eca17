"""Reading Twilio's form posts: parameters, signatures, and what kind of post it is.

Twilio posts two kinds of form to the same URL: an inbound message (``Body``,
``From``, ``NumMedia``…) and a status callback for a message we sent
(``MessageStatus`` = queued/sent/delivered/undelivered/failed, ``ErrorCode``).
The route and the processor both read the raw body through these functions, so
what was verified is exactly what gets processed.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from urllib.parse import parse_qsl

# Statuses an inbound message carries; anything else is a callback about our send.
INBOUND_STATUSES = ("", "received", "receiving")


def parse_form(raw_body: bytes) -> list[tuple[str, str]]:
    """The posted parameters in order; ValueError when the body is not UTF-8."""
    return parse_qsl(raw_body.decode("utf-8"), keep_blank_values=True)


def twilio_signature(auth_token: str, url: str, params: list[tuple[str, str]]) -> str:
    """base64(HMAC-SHA1(token, url + each sorted ``key + value``)), as Twilio signs."""
    # Sorting the pairs sorts by name, and repeated names by value, like Twilio's libraries.
    payload = url + "".join(key + value for key, value in sorted(params))
    digest = hmac.new(auth_token.encode(), payload.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def signature_is_valid(
    auth_token: str | None, url: str, params: list[tuple[str, str]], signature: str | None
) -> bool:
    """Whether ``signature`` is Twilio's for this URL and form (constant-time compare)."""
    if not auth_token or not signature:
        return False
    return hmac.compare_digest(twilio_signature(auth_token, url, params), signature.strip())


def message_status(fields: dict[str, str]) -> str:
    """The post's status in lower case; '' or 'received' for an inbound message."""
    return (fields.get("MessageStatus") or fields.get("SmsStatus") or "").strip().lower()


def is_status_callback(fields: dict[str, str]) -> bool:
    return message_status(fields) not in INBOUND_STATUSES


def message_sid(fields: dict[str, str]) -> str | None:
    return (fields.get("MessageSid") or fields.get("SmsSid") or "").strip() or None


def dedupe_key(fields: dict[str, str]) -> str:
    """One key per inbound message, and one per (message, status) for callbacks.

    A message goes through several statuses, each a separate callback; Twilio
    retrying one callback must still find the first copy.
    """
    sid = message_sid(fields) or ""
    if is_status_callback(fields):
        return f"{sid}:{message_status(fields)}"
    return sid
