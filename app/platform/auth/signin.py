"""Finishing a sign-in, whatever proved who the user is (password, Microsoft).

Every way in ends here, so session renewal, the second factor and the landing
page are decided once. This module also owns the cookies of signing in: the
session is renewed at sign-in (a session id or CSRF secret planted before it is
not carried over), and "Keep me signed in" is a rotating token in a cookie of
its own (see :mod:`app.platform.auth.sessions`).

Why not Flask-Login's remember cookie: it holds ``get_id()`` signed with
``SECRET_KEY`` and lives as long as ``REMEMBER_COOKIE_DURATION``; it can be
neither told apart per browser nor revoked one by one, and it comes out the same
at every sign-in. So Switchboard never asks Flask-Login to remember; its own
cookie is read by the request loader (:func:`restore_remembered_session`) only
when the session has no user.
"""

from __future__ import annotations

import time
import uuid
from urllib.parse import urlsplit

from flask import Flask, current_app, g, redirect, request, session, url_for
from flask_login import login_user, logout_user

from app.platform.auth.microsoft import bind_account
from app.platform.auth.services import home_endpoint_for, record_sign_in
from app.platform.auth.sessions import (
    end_all_sessions,
    issue_remember_token,
    redeem_remember_token,
    remember_lifetime,
)
from app.platform.auth.two_factor import has_two_factor
from app.platform.models import User
from app.platform.transactions import commit

REMEMBER_COOKIE = "switchboard_remember"
# Flask-Login's own remember cookie, which earlier releases set for 365 days.
LEGACY_REMEMBER_COOKIE = "remember_token"
# Set in the session once this sign-in has passed a second factor (a code, a
# recovery code, or Microsoft's own MFA); admin pages look for it.
SECOND_FACTOR_KEY = "second_factor"
# A password that was right, waiting for its second factor on /login/verify.
PENDING_KEY = "pending_sign_in"
PENDING_SECONDS = 300
SOCKETIO_PATH = "/socket.io"


def safe_next(target: str | None) -> str | None:
    """Only follow ``next`` to a path on this site (no open redirect)."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


def client_address() -> str:
    """The client's address; behind ``TRUSTED_PROXY_HOPS`` proxies, the one they saw.

    ProxyFix (see ``create_app``) has already put it in ``remote_addr``; with no
    trusted proxy a client's own X-Forwarded-For is ignored.
    """
    return request.remote_addr or "unknown"


def finish_sign_in(
    user: User,
    *,
    remember: bool,
    method: str,
    next_url: str | None = None,
    second_factor: bool = False,
    microsoft_binding: dict | None = None,
):
    """Start ``user``'s session and answer the redirect to where they were going.

    ``method`` names how the user proved who they are ("password",
    "microsoft"); ``second_factor`` says whether that proof already included a
    second factor (Microsoft's ``amr`` claim holding "mfa"). A user with an
    authenticator who has not shown a second factor yet is sent to
    ``/login/verify`` first, with the sign-in held in the session for
    ``PENDING_SECONDS``. A first Microsoft sign-in's ``microsoft_binding`` is
    bound when the session starts, so after the second factor when one is asked.
    """
    if not second_factor and has_two_factor(user):
        _renew_session()
        session[PENDING_KEY] = {
            "user_id": str(user.id),
            "session_version": user.session_version,
            "remember": bool(remember),
            "method": method,
            "next": safe_next(next_url),
            "expires": int(time.time()) + PENDING_SECONDS,
            "microsoft_binding": microsoft_binding,
        }
        return redirect(url_for("auth.verify"))
    _bind_microsoft_account(user, microsoft_binding)
    start_session(user, remember=remember, second_factor=second_factor)
    return redirect(safe_next(next_url) or url_for(home_endpoint_for(user)))


def pending_sign_in() -> dict | None:
    """The sign-in waiting for a second factor, if it is still good."""
    pending = session.get(PENDING_KEY)
    if not isinstance(pending, dict) or pending.get("expires", 0) < time.time():
        return None
    return pending


def pending_user_id(pending: dict) -> uuid.UUID:
    return uuid.UUID(pending["user_id"])


def finish_pending_sign_in(user: User, pending: dict):
    """The second factor was right: start the session held by ``pending``."""
    if user.session_version != pending["session_version"]:
        # The user's sessions were ended meanwhile (new password): start over.
        abandon_pending_sign_in()
        return redirect(url_for("auth.login"))
    _bind_microsoft_account(user, pending.get("microsoft_binding"))
    start_session(user, remember=pending["remember"], second_factor=True)
    return redirect(pending["next"] or url_for(home_endpoint_for(user)))


def _bind_microsoft_account(user: User, binding: dict | None) -> None:
    if binding:
        bind_account(user, binding, request.remote_addr)


def abandon_pending_sign_in() -> None:
    session.pop(PENDING_KEY, None)


def start_session(user: User, *, remember: bool, second_factor: bool) -> None:
    """Sign ``user`` in with a fresh session (and a new remember token if asked)."""
    record_sign_in(user)
    if remember:
        _, plain = issue_remember_token(
            user, second_factor=second_factor, user_agent=request.user_agent.string
        )
        g.remember_cookie_value = plain
    commit()
    _renew_session()
    login_user(user)
    session[SECOND_FACTOR_KEY] = second_factor


def passed_second_factor() -> bool:
    """Whether this session's sign-in included a second factor."""
    return bool(session.get(SECOND_FACTOR_KEY))


def note_second_factor() -> None:
    """The user just proved a second factor (set it up): the session counts it."""
    session[SECOND_FACTOR_KEY] = True


def sign_out_everywhere(user: User) -> None:
    """End every session and remembered browser of ``user``, this one included."""
    end_all_sessions(user)
    commit()
    logout_user()
    session.clear()
    g.remember_cookie_value = ""


def restart_session_after(user: User) -> None:
    """End ``user``'s other sessions but keep this browser signed in, freshly.

    For a password change: every older cookie stops working, this browser gets
    a new session (and a new remember token if it had one).
    """
    was_remembered = REMEMBER_COOKIE in request.cookies
    second_factor = passed_second_factor()
    end_all_sessions(user)
    start_session(user, remember=was_remembered, second_factor=second_factor)


def restore_remembered_session(req) -> User | None:
    """Flask-Login request loader: a remembered browser without a session.

    The token is exchanged for a new one (set on this response) and the user
    gets a session again, so the next requests need no token.
    """
    plain = req.cookies.get(REMEMBER_COOKIE)
    if not plain or req.path.startswith(SOCKETIO_PATH):
        # A Socket.IO handshake has no response to carry the new token back:
        # the page's own request restores the session first.
        return None
    redeemed = redeem_remember_token(plain, user_agent=req.user_agent.string)
    if redeemed is None:
        commit()  # the spent or expired token stays deleted
        g.remember_cookie_value = ""
        return None
    user, token, new_plain = redeemed
    commit()
    g.remember_cookie_value = new_plain
    _renew_session()
    login_user(user, fresh=False)
    session[SECOND_FACTOR_KEY] = token.second_factor
    return user


def _renew_session() -> None:
    """Forget everything the session held, the CSRF secret included.

    Flask's session is a signed cookie, so clearing it is renewing it: what an
    attacker planted before the sign-in (a session, a CSRF token they know) does
    not survive it. The CSRF token cached for this request goes too.
    """
    session.clear()
    g.pop("csrf_token", None)


def _write_remember_cookie(response):
    """Set or clear the remember cookie as this request decided.

    ``g.remember_cookie_value`` holds the new token, "" to clear, or nothing.
    An old Flask-Login remember cookie is deleted on sight: it would shadow
    ours (Flask-Login reads its own cookie before any request loader).
    """
    value = g.get("remember_cookie_value")
    if value is not None:
        attributes = {
            "secure": current_app.config["REMEMBER_COOKIE_SECURE"],
            "httponly": True,
            "samesite": "Lax",
        }
        if value:
            max_age = int(remember_lifetime().total_seconds())
            response.set_cookie(REMEMBER_COOKIE, value, max_age=max_age, **attributes)
        else:
            response.delete_cookie(REMEMBER_COOKIE, **attributes)
    if LEGACY_REMEMBER_COOKIE in request.cookies:
        response.delete_cookie(LEGACY_REMEMBER_COOKIE)
    return response


def init_app(app: Flask) -> None:
    app.after_request(_write_remember_cookie)
