"""Role gates for views, and the second factor that privileged pages ask for."""

from __future__ import annotations

from functools import wraps

from flask import abort, g
from flask_login import current_user
from flask_login import login_required as flask_login_required

from app.platform.auth.signin import passed_second_factor
from app.platform.auth.two_factor import PRIVILEGED_ROLES
from app.platform.models.enums import Role
from app.platform.security.access import STAFF, Access, record

STAFF_DESK_ROLES = (Role.AGENT, Role.TEAM_LEAD, Role.MANAGER, Role.ADMIN)


class SecondFactorRequired(Exception):
    """A privileged page was asked for by a session without a second factor.

    ``create_app`` answers it: JSON 403 ``two_factor_required``, or a redirect
    to the setup page for a browser.
    """


def require_second_factor() -> None:
    """Refuse unless this sign-in passed a second factor.

    Personal API tokens pass: a token is its own credential, issued by a
    signed-in user (docs/security.md).
    """
    if g.get("authenticated_by_token"):
        return
    if not passed_second_factor():
        raise SecondFactorRequired()


def role_required(*roles: Role, refusal=None):
    """Allow signed-in users with one of ``roles``; others get the 403 page
    (saying ``refusal``, a lazy text, when given).

    A page only admins and managers may open (admin pages, integrations,
    analytics) also needs a sign-in with a second factor.
    """
    privileged = set(roles) <= PRIVILEGED_ROLES

    def decorator(view):
        @wraps(view)
        @flask_login_required
        def wrapped(*args, **kwargs):
            if current_user.role not in roles:
                abort(403, str(refusal) if refusal else None)
            if privileged:
                require_second_factor()
            return view(*args, **kwargs)

        # What it enforces is its declaration (app.platform.security.access).
        # A partner user only ever sees their own partner's records (app.orders.portal.scope).
        return record(
            wrapped,
            Access(
                roles=frozenset(roles),
                two_factor=privileged,
                partner_scoped=Role.PARTNER in roles,
            ),
        )

    return decorator


def gate(access: Access, refusal=None):
    """Enforce ``access`` and declare it, in one line above a view.

    A sign-in (else the sign-in page), one of its roles (else the 403 page, saying
    ``refusal``), and a second factor when it asks for one. For declarations the
    other gates have no name for: one's own account, a technician's own visits.
    """

    def decorator(view):
        @wraps(view)
        @flask_login_required
        def wrapped(*args, **kwargs):
            if current_user.role not in access.roles:
                abort(403, str(refusal) if refusal else None)
            if access.two_factor:
                require_second_factor()
            return view(*args, **kwargs)

        return record(wrapped, access)

    return decorator


def login_required(view):
    """Any signed-in staff member (Flask-Login's gate, declared).

    Partner users never get here: the portal's confinement keeps them to ``/portal``.
    """
    return record(flask_login_required(view), Access(roles=STAFF))
