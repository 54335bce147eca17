"""Sign in with Microsoft: the start and the redirect URI Entra ID sends people back to.

Both answer 404 while the feature is not configured. The pending flow (state,
nonce, PKCE verifier) and where to go afterwards live in the session between
the two; the callback takes them out whatever happens, so an answer is used once.
"""

from __future__ import annotations

import logging

from flask import (
    Blueprint,
    abort,
    current_app,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user

from app.platform.auth import microsoft
from app.platform.auth.forms import LoginForm
from app.platform.auth.services import home_endpoint_for
from app.platform.auth.signin import finish_sign_in, safe_next
from app.platform.security.access import SESSION_CSRF, declare_blueprint, public

log = logging.getLogger(__name__)

bp = Blueprint("microsoft_sign_in", __name__)
declare_blueprint(
    bp, public("the sign-in itself (state, nonce and PKCE checked)", csrf=SESSION_CSRF)
)

PENDING_KEY = "microsoft_sign_in"
# Registered as the app's redirect URI in Entra ID, under PUBLIC_BASE_URL. Entra
# answers with a query string (not form_post): a cross-site POST would arrive
# without our SameSite=Lax session cookie, and with it the pending flow.
CALLBACK_PATH = "/login/microsoft/callback"


@bp.app_template_global()
def microsoft_sign_in_enabled() -> bool:
    """Whether the login page offers "Sign in with Microsoft"."""
    return microsoft.MicrosoftSignIn.from_config(current_app.config) is not None


def _settings() -> microsoft.MicrosoftSignIn:
    settings = microsoft.MicrosoftSignIn.from_config(current_app.config)
    if settings is None:
        abort(404)
    return settings


@bp.get("/login/microsoft")
def start():
    settings = _settings()
    if current_user.is_authenticated:
        return redirect(url_for(home_endpoint_for(current_user)))
    next_url = safe_next(request.args.get("next"))
    redirect_uri = current_app.config["PUBLIC_BASE_URL"].rstrip("/") + CALLBACK_PATH
    try:
        pending, auth_uri = microsoft.begin(settings, redirect_uri, next_url)
    except microsoft.MicrosoftSignInError as exc:
        return _refused(exc, next_url=next_url)
    session[PENDING_KEY] = pending
    return redirect(auth_uri)


@bp.get(CALLBACK_PATH)
def callback():
    settings = _settings()
    pending = session.pop(PENDING_KEY, None)
    next_url = pending.get("next") if isinstance(pending, dict) else None
    try:
        identity = microsoft.complete(settings, pending, request.args)
        user = microsoft.account_for(identity, ip_address=request.remote_addr)
    except microsoft.MicrosoftSignInError as exc:
        return _refused(exc, next_url=next_url)
    return finish_sign_in(
        user,
        remember=False,
        method="microsoft",
        next_url=next_url,
        second_factor=identity.second_factor,
        microsoft_binding=microsoft.binding_for(user, identity),
    )


def _refused(exc: microsoft.MicrosoftSignInError, *, next_url: str | None):
    """The login page with what went wrong; the password form still leads to ``next``."""
    log.warning("Microsoft sign-in refused: %s", exc.reason)
    page = render_template(
        "auth/login.html", form=LoginForm(), microsoft_error=exc.message, next_url=next_url
    )
    return page, exc.status
