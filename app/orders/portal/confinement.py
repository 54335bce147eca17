"""Deny by default: a partner user reaches the portal and their own sign-in pages, nothing else.

One ``before_request`` for the whole app, so a page or API route added later
is closed to partner users without anyone remembering to close it. Staff, for
their part, never use /portal (the portal's routes ask for the partner role).
The Socket.IO connection is refused in :mod:`app.platform.realtime`.
"""

from __future__ import annotations

from flask import Flask, abort, current_app, request
from flask_login import current_user

from app.platform.auth.cookies import carries_credentials
from app.platform.json_api.errors import wants_json
from app.platform.models.enums import Role

PORTAL_BLUEPRINTS = frozenset({"portal", "portal_settings", "portal_welcome"})
# Sign-in and sign-out, the second factor, the own password and language; and
# the API description, public anyway, which a partner's developers read.
ACCOUNT_BLUEPRINTS = frozenset({"security", "api_docs"})
ACCOUNT_ENDPOINTS = frozenset(
    {
        "static",
        "favicon",
        "auth.login",
        "auth.verify",
        "auth.logout",
        "auth.root",
        "preferences.edit",
    }
)


def partner_may_reach(endpoint: str | None, blueprint: str | None) -> bool:
    """Whether a signed-in partner user may open ``endpoint``."""
    if endpoint is None:
        return True  # no route: the 404 answers it
    if blueprint in PORTAL_BLUEPRINTS or blueprint in ACCOUNT_BLUEPRINTS:
        return True
    return endpoint in ACCOUNT_ENDPOINTS


def confine_partner_users():
    # Nobody is signed in on a request without credentials (a provider's webhook):
    # no user to load.
    if not carries_credentials(request, current_app):
        return None
    if not current_user.is_authenticated or current_user.role != Role.PARTNER:
        return None
    if partner_may_reach(request.endpoint, request.blueprint):
        return None
    # The API does not exist for them; a page is plainly not theirs.
    if request.path.startswith("/api/") or wants_json():
        abort(404)
    abort(403)


def init_app(app: Flask) -> None:
    app.before_request(confine_partner_users)
