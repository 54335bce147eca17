"""Authentication for the app's JSON API.

A request is authenticated by the browser session or by ``Authorization: Bearer
<personal token>``. Session requests that change something must carry the CSRF
token like any form; token requests cannot be forged cross-site, so they skip it.
"""

from __future__ import annotations

from functools import wraps

from flask import Blueprint, g, request
from flask_login import current_user

from app.platform.auth.decorators import require_second_factor
from app.platform.auth.tokens import personal_token
from app.platform.auth.two_factor import PRIVILEGED_ROLES
from app.platform.extensions import csrf
from app.platform.json_api.errors import ApiError
from app.platform.models.enums import KeyScope, Role
from app.platform.security.access import SESSION_OR_KEY, STAFF, Access, declare_blueprint, record

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# What a read-scope token may do.
READ_METHODS = frozenset({"GET", "HEAD"})


def bearer_token() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return None


def load_user_from_request(req):
    """Flask-Login request loader: personal tokens, on API paths only."""
    if not req.path.startswith("/api/"):
        return None
    token = bearer_token()
    if token is None:
        return None
    record = personal_token(token, req.remote_addr)
    if record is None:
        return None
    if record.scope == KeyScope.READ and req.method not in READ_METHODS:
        raise ApiError(
            403,
            "insufficient_scope",
            f"This token has the read scope; {req.method} requests need a token "
            "with the write scope.",
            headers={"WWW-Authenticate": 'Bearer error="insufficient_scope", scope="write"'},
        )
    g.authenticated_by_token = True
    return record.user


def guard_json_api(bp: Blueprint) -> Blueprint:
    """Require a signed-in user (session or token) on every route of ``bp``."""
    csrf.exempt(bp)
    declare_blueprint(bp, Access(roles=STAFF, csrf=SESSION_OR_KEY))

    @bp.before_request
    def _authenticate():
        if bearer_token() is not None and not g.get("authenticated_by_token"):
            # Resolve the token now so a bad one is reported as such.
            current_user._get_current_object()
        if not current_user.is_authenticated:
            if bearer_token() is not None:
                raise ApiError(
                    401, "invalid_token", "The bearer token is invalid, expired or revoked."
                )
            raise ApiError(
                401,
                "authentication_required",
                "Sign in, or send Authorization: Bearer <personal API token>.",
            )
        if request.method not in SAFE_METHODS and not g.get("authenticated_by_token"):
            csrf.protect()

    return bp


def require_api_role(roles: tuple[Role, ...], message: str) -> None:
    """403 JSON unless the signed-in caller has one of ``roles``."""
    if current_user.role not in roles:
        raise ApiError(403, "forbidden", message)


def api_role_required(*roles: Role, message: str):
    """Only ``roles`` may call this JSON route (the API's twin of ``role_required``).

    Goes on routes of a :func:`guard_json_api` blueprint, which has signed the
    caller in; the role is checked before the body, so a refused caller learns
    nothing about what a valid request would look like. As with ``role_required``,
    a route only privileged roles may call also needs a sign-in with a second
    factor (a personal token is its own credential and passes).
    """
    privileged = set(roles) <= PRIVILEGED_ROLES

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            require_api_role(roles, message)
            if privileged:
                require_second_factor()
            return view(*args, **kwargs)

        return record(
            wrapped,
            Access(roles=frozenset(roles), two_factor=privileged, csrf=SESSION_OR_KEY),
        )

    return decorator
