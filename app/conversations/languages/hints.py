"""What the composer tells an agent about the customer's language.

Language names come from Babel's CLDR data in the agent's own locale ("Engels"
for a Dutch agent, "English" for an English one), so no name is translated by
hand.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from babel import Locale
from flask import Flask
from flask_babel import get_locale
from flask_babel import gettext as _

from app.conversations.languages import DEFAULT_LANGUAGE, base_language, customer_language
from app.platform.models import CommunicationTemplate, Contact


@dataclass(frozen=True)
class LanguageHint:
    """The line above the reply box: the customer's language and what follows from it."""

    language: str  # ISO 639-1
    text: str
    # Set when the composer lists templates in that language first.
    templates_first: str | None = None


def language_name(code: str | None, locale: Locale | str | None = None) -> str:
    """The language's name in ``locale`` (default: the reader's), as Babel spells it."""
    reader = Locale.parse(locale) if locale is not None else get_locale()
    language = base_language(code)
    return (reader.languages.get(language) if reader else None) or language


def language_hint(
    contact: Contact | None, templates: Iterable[CommunicationTemplate] = ()
) -> LanguageHint | None:
    """The hint for a customer answered in another language than Dutch; None for Dutch."""
    language = customer_language(contact)
    if contact is None or language == DEFAULT_LANGUAGE:
        return None
    name = language_name(language)
    if contact.detected_language and base_language(contact.detected_language) == language:
        text = _("The customer writes in %(language)s.", language=name)
    else:
        # Someone set the contact's language; nothing they wrote told it yet.
        text = _("The customer's language is %(language)s.", language=name)
    first = any(base_language(template.language) == language for template in templates)
    return LanguageHint(
        language,
        text,
        _("Templates in %(language)s are listed first.", language=name) if first else None,
    )


def init_app(app: Flask) -> None:
    # Template lists show a template's language beside its name.
    app.add_template_filter(language_name, "language_name")
