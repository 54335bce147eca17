"""The customer's language: detected from what they write, kept on the contact.

``customer_language`` is what other features ask (templates, suggested replies,
the rating question): the language the customer last wrote in, else the locale
someone set on the contact, else Dutch.
"""

from __future__ import annotations

from app.models import Contact

DEFAULT_LANGUAGE = "nl"


def customer_language(contact: Contact | None) -> str:
    """ISO 639-1 code of the language to answer ``contact`` in."""
    if contact is None:
        return DEFAULT_LANGUAGE
    chosen = contact.detected_language or contact.locale or DEFAULT_LANGUAGE
    return chosen[:2].lower()
