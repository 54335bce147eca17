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

System texts (:mod:`app.platform.system_texts`) and the interface's wrapped strings are
translated; dates and numbers go through Babel (:mod:`app.platform.ui`). Tests force a
locale with ``flask_babel.force_locale`` or replace the selector.

The compiled catalogues (``translations/*/LC_MESSAGES/messages.mo``) are
committed beside their ``.po`` files, so a fresh clone, ``pip install`` and a
container build need no compile step; ``tests/platform/test_system_texts.py`` fails when a
``.mo`` no longer matches its ``.po`` (``make translations`` recompiles).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cached_property
from pathlib import Path

from babel.support import NullTranslations
from flask import Flask, current_app, g, has_app_context, has_request_context, request
from flask_babel import Babel, Domain, get_locale
from flask_login import current_user
from markupsafe import Markup

from app.platform.config import INTERFACE_LANGUAGES
from app.platform.labels import label
from app.platform.system_texts import (
    automation_label,
    automation_of,
    provider_detail,
    render_stored,
)

ROOT = Path(__file__).resolve().parents[2]
TRANSLATIONS = ROOT / "translations"
LANGUAGES = INTERFACE_LANGUAGES
# What the preferences page offers, each in its own words, not translated.
LANGUAGE_NAMES = {"nl": "Nederlands", "en": "English"}


class RequestCatalogueDomain(Domain):
    """Flask-Babel's domain, with the reader's catalogue found once per request.

    Flask-Babel looks the request's locale up again for every text (three trips
    through ``g`` and a locale name built each time): ~25 µs a text, 400 texts
    on an inbox page. The catalogue is kept beside Flask-Babel's own per-request
    state, with the locale it was found for: ``force_locale`` and ``refresh`` put
    another locale object there, so a text written for another reader is looked
    up afresh.
    """

    def get_translations(self) -> NullTranslations:
        state = _babel_state()
        locale = getattr(state, "babel_locale", None)
        if locale is None:  # no request, or the locale not chosen yet
            return super().get_translations()
        kept = state.__dict__.get("switchboard_catalogue")
        if kept is not None and kept[0] is locale:
            return kept[1]
        translations = super().get_translations()
        state.switchboard_catalogue = (locale, translations)
        return translations


def _babel_state():
    """Flask-Babel's state of the current app context (``g._flask_babel``), if any."""
    if not has_app_context():
        return None
    return g._get_current_object().__dict__.get("_flask_babel")


class SwitchboardBabel(Babel):
    """Flask-Babel with :class:`RequestCatalogueDomain` as its default domain."""

    @cached_property
    def domain_instance(self) -> Domain:
        return RequestCatalogueDomain(domain=self.domain)


babel = SwitchboardBabel()


def _catalogue() -> NullTranslations:
    return babel.domain_instance.get_translations()


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
    send no ``Accept-Language`` and read errors in the API's documented language.
    """
    fallback = "en" if has_request_context() and request.path.startswith("/api/") else None
    return users_language() or browsers_language() or fallback or default_language()


def user_content(value) -> Markup:
    """``value`` written by a person (a key's name inside a translated sentence), marked
    ``data-user-content``: it stays in the writer's words, and the Dutch-pages test
    (tests/e2e/crawl.py) leaves it out."""
    return Markup('<span data-user-content="">{}</span>').format(value)


def init_app(app: Flask, locale_selector: Callable[[], str | None] | None = None) -> None:
    app.config.setdefault("DEFAULT_LANGUAGE", LANGUAGES[0])
    # Outside a request (jobs, the CLI) nothing selects a locale: the default applies.
    app.config.setdefault("BABEL_DEFAULT_LOCALE", app.config["DEFAULT_LANGUAGE"])
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", str(TRANSLATIONS))
    babel.init_app(app, locale_selector=locale_selector or select_locale)
    # Templates ask the kept catalogue directly (Flask-Babel's own callables
    # look the request's domain and locale up for every text).
    app.jinja_env.install_gettext_callables(
        gettext=lambda s: _catalogue().ugettext(s),
        ngettext=lambda s, p, n: _catalogue().ungettext(s, p, n),
        pgettext=lambda c, s: _catalogue().upgettext(c, s),
        npgettext=lambda c, s, p, n: _catalogue().unpgettext(c, s, p, n),
        newstyle=True,
    )
    app.add_template_global(get_locale)  # <html lang>: screen readers pronounce Dutch as Dutch
    app.add_template_filter(render_stored, "system_text")
    app.add_template_filter(label, "label")  # enum values as people read them
    app.add_template_global(automation_of)
    app.add_template_global(automation_label)
    app.add_template_global(provider_detail)
    app.add_template_global(user_content)
