"""The customer's language: detected from what they write, kept on the contact.

``customer_language`` is what other features ask (templates, suggested replies,
the rating question): the language the customer last wrote in, else the locale
someone set on the contact, else Dutch.

- ``detection``: lingua, restricted to the languages our customers write in.
- The conversation's owner tells each customer message's language as it stores
  it, and keeps the contact's ``detected_language`` (:mod:`app.conversations.core.languages`).
- ``hints``: what the composer tells the agent, language names in their locale.
"""

from __future__ import annotations

from app.platform.features import Feature
from app.platform.models import Contact

DEFAULT_LANGUAGE = "nl"

FEATURE = Feature(
    init_app="app.conversations.languages.hints:init_app",
)


def customer_language(contact: Contact | None) -> str:
    """ISO 639-1 code of the language to answer ``contact`` in."""
    if contact is None:
        return DEFAULT_LANGUAGE
    chosen = contact.detected_language or contact.locale or DEFAULT_LANGUAGE
    return chosen[:2].lower()


def base_language(code: str | None) -> str:
    """The ISO 639-1 part of a stored code ("en_US" -> "en"); Dutch when none."""
    return (code or DEFAULT_LANGUAGE)[:2].lower()
