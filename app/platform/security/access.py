"""Who may call a route: every route declares it, and undeclared ones are refused.

A declaration (:class:`Access`) says which roles may call the route, whether
the sign-in must have passed a second factor, what protects it against forged
requests (the session's CSRF token, a bearer token or API key, a provider's
signature), and whether it answers only within the caller's partner.

The gates declare themselves, so a declaration and its gate cannot differ:
``role_required`` and ``login_required`` (:mod:`app.platform.auth.decorators`),
``api_role_required`` and ``guard_json_api`` (:mod:`app.platform.json_api.auth`) record what
they enforce. A route gated some other way (a provider's signature, a partner's
API key, a public page) says so with :func:`declare` on the view or
:func:`declare_blueprint` on its blueprint.

:func:`init_app` installs one ``before_request`` that refuses a request to an
endpoint without a declaration (403, logged as a defect), so a route added
without one fails closed, and ``tests/platform/test_route_declarations.py`` names it.
Routes the framework adds itself are listed in :data:`UNDECLARED_ON_PURPOSE`
with the reason.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace

from flask import Blueprint, Flask, abort, current_app, request

from app.platform.models.enums import Role

log = logging.getLogger(__name__)

# How a route is protected against requests a signed-in browser was tricked into.
SESSION_CSRF = "session"  # the session's CSRF token on every unsafe method
API_KEY = "api-key"  # a bearer token or partner API key; no cookie is trusted
SIGNATURE = "signature"  # a provider's HMAC signature or shared secret
SESSION_OR_KEY = "session-or-key"  # the JSON API: a browser's CSRF token, or a token
NONE = "none"  # public, safe methods only, or a bearer secret in the URL

EVERYONE = frozenset({"anonymous"})  # public: no sign-in asked
STAFF = frozenset(role for role in Role if role != Role.PARTNER)
ANY_SIGNED_IN = frozenset(Role)  # one's own account: staff and partner users alike
PARTNER_KEY = frozenset({"partner-api-key"})  # a partner's system, by its API key

ATTRIBUTE = "__access__"

# Endpoints without a declaration, each with its reason (the only exceptions).
UNDECLARED_ON_PURPOSE = {
    "static": "Flask's own static files: public stylesheets, scripts and images",
}


@dataclass(frozen=True)
class Access:
    """Who may call a route, and what else it asks of the caller."""

    roles: frozenset = field(default=STAFF)
    two_factor: bool = False
    csrf: str = SESSION_CSRF
    partner_scoped: bool = False
    # Roles let in only to their own records (a technician's own visits): refused,
    # with 403 or 404 alike, for anyone else's.
    own_only: frozenset = frozenset()
    # For a public route or an unusual gate: why it is so.
    reason: str = ""

    @property
    def public(self) -> bool:
        return self.roles == EVERYONE


def public(reason: str, *, csrf: str = NONE) -> Access:
    return Access(roles=EVERYONE, csrf=csrf, reason=reason)


def signed(reason: str) -> Access:
    """A provider's webhook: anyone may call it, only a valid signature gets in."""
    return Access(roles=EVERYONE, csrf=SIGNATURE, reason=reason)


# The partner API: a partner's key, scoped to that partner (and its sub-partners).
PARTNER_API = Access(
    roles=PARTNER_KEY,
    csrf=API_KEY,
    partner_scoped=True,
    reason="a partner's API key (scope, mode, IP allow-list, rate limit)",
)


# One's own account (password, second factor, preferences, sign-out): every role,
# partner users included (the portal's confinement lets them reach these pages).
ACCOUNT = Access(roles=ANY_SIGNED_IN, reason="the signed-in person's own account")


# The desk: every staff role but the technician, whose work is on the phone (/m/).
DESK = frozenset({Role.AGENT, Role.TEAM_LEAD, Role.MANAGER, Role.ADMIN})


# A visit's status: the desk on any order, a technician on their own visits only.
OWN_VISITS = Access(
    roles=STAFF,
    own_only=frozenset({Role.TECHNICIAN}),
    reason="technicians move only the orders of their own visits",
)


def declare(access: Access):
    """Declare a view's :class:`Access` (outermost wins over what a gate recorded)."""

    def decorator(view):
        setattr(view, ATTRIBUTE, access)
        return view

    return decorator


def record(view, access: Access):
    """What a gate records on the view it wraps (see the module notes)."""
    setattr(view, ATTRIBUTE, access)
    return view


def narrowed(view, **changes) -> Access:
    """The declaration already on ``view`` (or the default), changed."""
    return replace(getattr(view, ATTRIBUTE, None) or Access(), **changes)


def declare_blueprint(bp: Blueprint, access: Access) -> Blueprint:
    """Declare the :class:`Access` of every route of ``bp`` that declares none itself."""
    bp.access = access  # type: ignore[attr-defined]
    return bp


def access_of(app: Flask, endpoint: str) -> Access | None:
    """The declaration of ``endpoint``: its view's, else its blueprint's."""
    view = app.view_functions.get(endpoint)
    declared = getattr(view, ATTRIBUTE, None)
    if declared is not None:
        return declared
    blueprint = app.blueprints.get(endpoint.rpartition(".")[0]) if "." in endpoint else None
    return getattr(blueprint, "access", None)


def undeclared_endpoints(app: Flask) -> list[str]:
    return sorted(
        {
            rule.endpoint
            for rule in app.url_map.iter_rules()
            if rule.endpoint not in UNDECLARED_ON_PURPOSE and access_of(app, rule.endpoint) is None
        }
    )


def _refuse_undeclared():
    endpoint = request.endpoint
    if endpoint is None or endpoint in UNDECLARED_ON_PURPOSE:
        return None
    if access_of(current_app, endpoint) is None:
        log.error("refused %s: the route %s declares no access", request.path, endpoint)
        abort(403)
    return None


def init_app(app: Flask) -> None:
    app.before_request_funcs.setdefault(None, []).insert(0, _refuse_undeclared)
