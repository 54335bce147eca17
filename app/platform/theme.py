"""Light, dark, or the system's setting: the page theme, chosen in the top bar.

The switch (static/js/theme.js) keeps the choice in the ``theme`` cookie; every
page is rendered with it on ``<html data-theme>``, so the first paint is in the
right theme without an inline script. ``system`` leaves it to the stylesheet's
``prefers-color-scheme`` query (static/css/theme.css).
"""

from __future__ import annotations

from flask import Flask, request
from flask_babel import lazy_gettext as _l

THEME_COOKIE = "theme"
THEMES = ("system", "light", "dark")
THEME_LABELS = {"system": _l("System theme"), "light": _l("Light"), "dark": _l("Dark")}


def theme_preference() -> str:
    """The reader's chosen theme, ``system`` unless the cookie names another."""
    chosen = request.cookies.get(THEME_COOKIE)
    return chosen if chosen in THEMES else "system"


def register_theme(app: Flask) -> None:
    @app.context_processor
    def theme_context():
        return {"theme": theme_preference(), "theme_labels": THEME_LABELS}
