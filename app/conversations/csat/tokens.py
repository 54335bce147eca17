"""The signed token in a rating link: which survey, unforgeable, no sign-in needed."""

from __future__ import annotations

import uuid

from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer

SALT = "csat-rating"


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=SALT)


def rating_token(response_id: uuid.UUID) -> str:
    return _serializer().dumps(str(response_id))


def response_id_of(token: str) -> uuid.UUID | None:
    """The survey a token names; None when it was not signed by us."""
    try:
        return uuid.UUID(str(_serializer().loads(token)))
    except (BadSignature, ValueError):
        return None


def rating_url(response_id: uuid.UUID) -> str:
    """The public page's address, as the customer's phone or mail client opens it."""
    base = current_app.config["PUBLIC_BASE_URL"].rstrip("/")
    return f"{base}/csat/{rating_token(response_id)}"
