"""Languages: Flask-Babel set up once, and which language a reader gets.

System texts (:mod:`app.system_texts`) and the interface's wrapped strings are
translated. The reader's language is the user's ``language`` when the users
table has one (a later issue adds it, with the Dutch interface), else
``DEFAULT_LOCALE`` (English). An app may
pass its own selector to :func:`init_app`; tests force a locale with
``flask_babel.force_locale``.

The compiled catalogues (``translations/*/LC_MESSAGES/messages.mo``) are
committed beside their ``.po`` files, so a fresh clone, ``pip install`` and a
container build need no compile step; ``tests/test_system_texts.py`` fails when a
``.mo`` no longer matches its ``.po`` (``make translations`` recompiles).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from flask import Flask
from flask_babel import Babel, get_locale
from flask_login import current_user

from app.labels import label
from app.system_texts import automation_label, automation_of, provider_detail, render_stored

ROOT = Path(__file__).resolve().parent.parent
TRANSLATIONS = ROOT / "translations"
LANGUAGES = ("en", "nl")

babel = Babel()


def users_language() -> str | None:
    """The signed-in user's language, if they have chosen one we speak."""
    try:
        language = getattr(current_user, "language", None) if current_user else None
    except RuntimeError:  # outside a request: no user
        language = None
    return language if language in LANGUAGES else None


def init_app(app: Flask, locale_selector: Callable[[], str | None] | None = None) -> None:
    app.config.setdefault("BABEL_DEFAULT_LOCALE", "en")
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", str(TRANSLATIONS))
    babel.init_app(app, locale_selector=locale_selector or users_language)
    app.add_template_global(get_locale)  # <html lang>: screen readers pronounce Dutch as Dutch
    app.add_template_filter(render_stored, "system_text")
    app.add_template_filter(label, "label")  # enum values as people read them
    app.add_template_global(automation_of)
    app.add_template_global(automation_label)
    app.add_template_global(provider_detail)
