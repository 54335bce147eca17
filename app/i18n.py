"""Languages: Flask-Babel set up once, and which language a reader gets.

The interface speaks Dutch first and English second (``LANGUAGES``). A page is
in the signed-in user's own language (``users.language``, chosen under
/settings/preferences); a user who chose none, and anyone not signed in (the
sign-in page), gets the best match of the browser's ``Accept-Language``; a
browser asking for neither gets ``DEFAULT_LANGUAGE`` (Dutch unless configured).

Texts made outside a request (e-mails, the daily digest, live notifications
pushed by jobs, Teams cards) are rendered inside
``flask_babel.force_locale(language_of(recipient))``: the reader is the
recipient, not whoever caused the text. Customer-facing texts (auto-replies,
templates) are sent as written.

System texts (:mod:`app.system_texts`) and the interface's wrapped strings are
translated; dates and numbers go through Babel (:mod:`app.ui`). Tests force a
locale with ``flask_babel.force_locale`` or replace the selector.

The compiled catalogues (``translations/*/LC_MESSAGES/messages.mo``) are
committed beside their ``.po`` files, so a fresh clone, ``pip install`` and a
container build need no compile step; ``tests/test_system_texts.py`` fails when a
``.mo`` no longer matches its ``.po`` (``make translations`` recompiles).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from flask import Flask, current_app, has_request_context, request
from flask_babel import Babel, get_locale
from flask_login import current_user

from app.config import INTERFACE_LANGUAGES
from app.labels import label
from app.system_texts import automation_label, automation_of, provider_detail, render_stored

ROOT = Path(__file__).resolve().parent.parent
TRANSLATIONS = ROOT / "translations"
LANGUAGES = INTERFACE_LANGUAGES
# What the preferences page offers, each in its own words, not translated.
LANGUAGE_NAMES = {"nl": "Nederlands", "en": "English"}

babel = Babel()


def default_language() -> str:
    """``DEFAULT_LANGUAGE``: for readers whose language is unknown, and for teams."""
    return current_app.config.get("DEFAULT_LANGUAGE") or LANGUAGES[0]


def language_of(user) -> str:
    """The language to write to ``user`` in, outside a request: theirs, else the default.

    A user who left the choice to the browser gets ``DEFAULT_LANGUAGE`` in
    e-mails and pushes: no browser is asking then.
    """
    language = getattr(user, "language", None)
    return language if language in LANGUAGES else default_language()


def users_language() -> str | None:
    """The signed-in user's language, if they have chosen one we speak."""
    try:
        language = getattr(current_user, "language", None) if current_user else None
    except RuntimeError:  # outside a request: no user
        language = None
    return language if language in LANGUAGES else None


def browsers_language() -> str | None:
    """The best of our languages in the request's ``Accept-Language`` ("en-US" is "en")."""
    if not has_request_context():
        return None
    return request.accept_languages.best_match(LANGUAGES)


def select_locale() -> str:
    """The reader's language: their own choice, else their browser's, else the default.

    The JSON API's default is English, not ``DEFAULT_LANGUAGE``: partners' systems
    send no ``Accept-Language`` and read errors in the contract's language.
    """
    fallback = "en" if has_request_context() and request.path.startswith("/api/") else None
    return users_language() or browsers_language() or fallback or default_language()


def init_app(app: Flask, locale_selector: Callable[[], str | None] | None = None) -> None:
    app.config.setdefault("DEFAULT_LANGUAGE", LANGUAGES[0])
    # Outside a request (jobs, the CLI) nothing selects a locale: the default applies.
    app.config.setdefault("BABEL_DEFAULT_LOCALE", app.config["DEFAULT_LANGUAGE"])
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", str(TRANSLATIONS))
    babel.init_app(app, locale_selector=locale_selector or select_locale)
    app.add_template_global(get_locale)  # <html lang>: screen readers pronounce Dutch as Dutch
    app.add_template_filter(render_stored, "system_text")
    app.add_template_filter(label, "label")  # enum values as people read them
    app.add_template_global(automation_of)
    app.add_template_global(automation_label)
    app.add_template_global(provider_detail)
