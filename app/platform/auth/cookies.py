"""What a request carries that could name a signed-in user, and the session cookie.

Most requests to the webhook and partner endpoints carry no cookie at all: a
provider's or partner's server signs its body or sends a key. Flask still opens
a session for each (building its signer from ``SECRET_KEY``) and Flask-Login,
when a hook asks for ``current_user``, works out the browser's identifier and
tries every loader: a tenth of a webhook's CPU (py-spy on ``benchmarks/e2e.py``).
"""

from __future__ import annotations

from flask import Flask, Request
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface

from app.platform.auth.signin import LEGACY_REMEMBER_COOKIE, REMEMBER_COOKIE


class CookieSessions(SecureCookieSessionInterface):
    """Flask's signed-cookie session; without the cookie, an empty session at once."""

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        if app.secret_key and self.get_cookie_name(app) not in request.cookies:
            return self.session_class()
        return super().open_session(app, request)


def carries_credentials(request: Request, app: Flask) -> bool:
    """Whether ``request`` could name a signed-in user: a session or remember cookie,
    or an ``Authorization`` header (a bearer token). Without any, ``current_user``
    is anonymous."""
    cookies = request.cookies
    return (
        app.config["SESSION_COOKIE_NAME"] in cookies
        or REMEMBER_COOKIE in cookies
        or LEGACY_REMEMBER_COOKIE in cookies
        or "Authorization" in request.headers
    )
