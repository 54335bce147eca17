"""Signing outbound webhooks.

Every partner callback carries two signatures made with the partner's secret:

- ``X-ChargeCars-Signature``: hex HMAC-SHA256 of the raw body, keyed with the
  secret string exactly as the partner was given it (``whsec_…``, UTF-8), as
  docs/partners.md tells partners to check it;
- Standard Webhooks (``webhook-id``, ``webhook-timestamp``, ``webhook-signature``):
  ``v1,<base64 HMAC-SHA256>`` of ``"{id}.{timestamp}.{body}"`` keyed with the
  base64-decoded part of the secret after ``whsec_``, so any Standard Webhooks
  library verifies it.

While a rotated-out secret is still in its overlap window
(:meth:`PartnerIntegration.signing_secrets`), ``webhook-signature`` lists one
``v1,`` signature per valid secret, space-separated as the Standard Webhooks
spec allows, the new secret's first: a verifier holding either secret accepts
the callback. ``X-ChargeCars-Signature`` has room for one value and carries the
new secret's.

Make.com scenarios get ``X-Make-Signature`` (hex HMAC of the body with
``MAKE_WEBHOOK_SECRET``) when that secret is configured.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import time
from collections.abc import Sequence

SECRET_PREFIX = "whsec_"  # noqa: S105  (the format's prefix, not a secret)


def hex_signature(secret: str, body: bytes) -> str:
    """The partner signature: hex HMAC-SHA256 of ``body`` keyed with ``secret`` as text."""
    return hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


def standard_webhooks_key(secret: str) -> bytes:
    """The HMAC key Standard Webhooks derives from a ``whsec_…`` secret."""
    encoded = secret[len(SECRET_PREFIX) :] if secret.startswith(SECRET_PREFIX) else secret
    try:
        # As the reference library: tolerate missing padding.
        return base64.b64decode(encoded + "==")
    except (binascii.Error, ValueError):
        # Not base64 at all (a hand-typed secret): the reference library would
        # refuse it; signing with its bytes at least keeps the hex signature usable.
        return encoded.encode("utf-8")


def standard_webhooks_signature(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """``v1,<base64>`` over ``"{msg_id}.{timestamp}.{body}"``."""
    signed = f"{msg_id}.{timestamp}.".encode() + body
    digest = hmac.new(standard_webhooks_key(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode("ascii")


def partner_callback_headers(
    *,
    event: str,
    msg_id: str,
    body: bytes,
    secret: str,
    previous_secrets: Sequence[str] = (),
    timestamp: int | None = None,
) -> dict[str, str]:
    """Every header of one partner callback attempt (the timestamp is the attempt's).

    ``previous_secrets``: secrets still in a rotation's overlap; each adds a
    signature to ``webhook-signature`` after the current secret's.
    """
    timestamp = int(time.time()) if timestamp is None else timestamp
    signatures = [
        standard_webhooks_signature(each, msg_id, timestamp, body)
        for each in (secret, *previous_secrets)
    ]
    return {
        "Content-Type": "application/json",
        "X-ChargeCars-Event": event,
        "X-ChargeCars-Signature": hex_signature(secret, body),
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": " ".join(signatures),
    }


def make_scenario_headers(
    *, scenario: str, msg_id: str, body: bytes, secret: str | None
) -> dict[str, str]:
    """Headers for a Make.com scenario webhook; the id lets a scenario drop repeats."""
    headers = {
        "Content-Type": "application/json",
        "X-ChargeCars-Event": scenario,
        "webhook-id": msg_id,
    }
    if secret:
        headers["X-Make-Signature"] = hex_signature(secret, body)
    return headers


def endpoint_headers(
    *,
    event: str,
    msg_id: str,
    body: bytes,
    secret: str,
    custom_headers: dict | None = None,
    timestamp: int | None = None,
) -> dict[str, str]:
    """Headers for an integration-hub webhook endpoint.

    The endpoint's own headers go first, so none of them can replace the
    signature, the id or the content type set after them.
    """
    timestamp = int(time.time()) if timestamp is None else timestamp
    headers = {str(name): str(value) for name, value in (custom_headers or {}).items()}
    headers.update(
        {
            "Content-Type": "application/json",
            "X-ChargeCars-Event": event,
            "X-ChargeCars-Signature": hex_signature(secret, body),
            "webhook-id": msg_id,
            "webhook-timestamp": str(timestamp),
            "webhook-signature": standard_webhooks_signature(secret, msg_id, timestamp, body),
        }
    )
    return headers
