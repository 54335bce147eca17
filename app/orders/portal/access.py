"""The signed-in partner user and their scope, for the portal's routes."""

from __future__ import annotations

from flask import abort
from flask_login import current_user

from app.orders.portal.scope import PortalScope, own_integration, scope_for
from app.platform.auth.decorators import SecondFactorRequired
from app.platform.auth.two_factor import has_two_factor
from app.platform.models import PartnerIntegration, User


def me() -> User:
    return current_user._get_current_object()


def current_scope() -> PortalScope:
    """The user's scope; a partner user without an organisation gets 403.

    The portal asks for an authenticator itself, beyond the session's second
    factor (``role_required``): a user who turned theirs off keeps a session
    marked as passed, but may not go on without setting one up again.
    """
    user = me()
    if not has_two_factor(user):
        raise SecondFactorRequired()
    scope = scope_for(user)
    if scope is None:
        abort(403)
    return scope


def current_integration(scope: PortalScope) -> PartnerIntegration:
    """The user's own integration; without one the page does not exist for them."""
    integration = own_integration(scope)
    if integration is None:
        abort(404)
    return integration
