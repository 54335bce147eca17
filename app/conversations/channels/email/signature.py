"""Verifying SendGrid's Signed Event Webhook.

SendGrid signs ``timestamp + raw body`` with ECDSA P-256 / SHA-256 and sends the
DER signature base64-encoded in ``X-Twilio-Email-Event-Webhook-Signature``, the
timestamp in ``X-Twilio-Email-Event-Webhook-Timestamp``. The verification key
is shown in SendGrid's Mail Settings as base64 DER (SubjectPublicKeyInfo); a PEM
block is accepted too.
"""

from __future__ import annotations

import base64
import binascii
from functools import lru_cache

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import load_der_public_key, load_pem_public_key

SIGNATURE_HEADER = "X-Twilio-Email-Event-Webhook-Signature"
TIMESTAMP_HEADER = "X-Twilio-Email-Event-Webhook-Timestamp"


class BadVerificationKey(ValueError):
    """SENDGRID_WEBHOOK_PUBLIC_KEY is not an EC public key."""


@lru_cache(maxsize=4)
def load_verification_key(value: str) -> ec.EllipticCurvePublicKey:
    text = value.strip()
    try:
        if "BEGIN PUBLIC KEY" in text:
            key = load_pem_public_key(text.encode())
        else:
            key = load_der_public_key(base64.b64decode(text, validate=True))
    except (ValueError, binascii.Error) as exc:
        raise BadVerificationKey("the key is not base64 DER or PEM") from exc
    if not isinstance(key, ec.EllipticCurvePublicKey):
        raise BadVerificationKey("the key is not an elliptic-curve key")
    return key


def signature_is_valid(
    verification_key: str, signature: str | None, timestamp: str | None, body: bytes
) -> bool:
    """Whether ``signature`` is SendGrid's over ``timestamp + body``.

    Raises :class:`BadVerificationKey` when the configured key cannot be read.
    """
    if not signature or not timestamp:
        return False
    key = load_verification_key(verification_key)
    try:
        key.verify(
            base64.b64decode(signature, validate=True),
            timestamp.encode() + body,
            ec.ECDSA(hashes.SHA256()),
        )
    except (InvalidSignature, ValueError, binascii.Error):
        return False
    return True
