"""Who is calling the partner API, and whether they may right now.

A key comes in ``X-API-Key`` or ``Authorization: Bearer``. No or an unknown key
is 401; a valid key for another partner is 403; a key used from outside the
partner's IP allow-list is 403 ``ip_not_allowed`` naming the address seen; a
read key asking for anything but GET/HEAD is 403 ``insufficient_scope``; more
requests than the partner's per-minute allowance is 429 with ``Retry-After``.
Test and live keys each have that allowance, counted apart: a partner trying
things in its sandbox never leaves its live traffic refused.
The scope is judged here by the request's method, so every partner route,
present and future, gets it without saying so. The counters live
in Redis, so the limit holds however many web processes serve the API.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass

import sqlalchemy as sa
from flask import current_app, g, request

from app.orders.partners.allowlist import is_allowed
from app.platform.auth.tokens import find_token
from app.platform.database import utcnow
from app.platform.extensions import db
from app.platform.json_api.errors import ApiError
from app.platform.models import ApiToken, Organization, PartnerIntegration
from app.platform.models.enums import KeyMode, KeyScope, OrganizationType, TokenKind
from app.platform.transactions import commit

# Partners may poll an order's status once a minute.
STATUS_POLL_SECONDS = 60
# What a read key may do: look, never change.
READ_METHODS = frozenset({"GET", "HEAD"})


@dataclass
class PartnerCaller:
    partner: Organization
    integration: PartnerIntegration
    token: ApiToken


def presented_key() -> str | None:
    key = request.headers.get("X-API-Key", "").strip()
    if key:
        return key
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return None


def authenticate(partner_id: str) -> PartnerCaller:
    """The partner behind the request's key, which must be ``partner_id``."""
    key = presented_key()
    if not key:
        raise ApiError(
            401,
            "missing_api_key",
            "Send your API key in the X-API-Key header (or Authorization: Bearer).",
            headers={"WWW-Authenticate": 'Bearer realm="partner-api"'},
        )
    token = find_token(key, TokenKind.PARTNER)
    if token is None:
        raise ApiError(
            401,
            "invalid_api_key",
            "This API key is not valid (unknown, revoked or expired).",
            headers={"WWW-Authenticate": 'Bearer realm="partner-api", error="invalid_token"'},
        )
    # The call counts for the key's partner in the API usage figures
    # (app.integrations.usage), whatever the answer: refusals are their errors too.
    g.api_partner_id = token.partner_organization_id
    if str(token.partner_organization_id) != str(_uuid_or_none(partner_id)):
        raise ApiError(403, "forbidden", "This API key belongs to another partner.")
    partner = db.session.get(Organization, token.partner_organization_id)
    integration = db.session.scalar(
        sa.select(PartnerIntegration).where(
            PartnerIntegration.partner_organization_id == token.partner_organization_id
        )
    )
    if (
        partner is None
        or partner.organization_type != OrganizationType.PARTNER
        or integration is None
    ):
        raise ApiError(403, "forbidden", "This partner has no API integration.")
    if not partner.is_active or not integration.is_active:
        raise ApiError(403, "integration_inactive", "This partner integration is switched off.")
    address = request.remote_addr or ""
    if not is_allowed(integration, address):
        raise ApiError(
            403,
            "ip_not_allowed",
            f"Requests from {address or 'an unknown address'} are not allowed "
            "for this partner's API keys.",
        )
    _touch(token, address)
    require_scope(token, request.method)
    return PartnerCaller(partner, integration, token)


def require_scope(token: ApiToken, method: str) -> None:
    """403 ``insufficient_scope`` when ``token`` may not make a ``method`` request."""
    if token.scope == KeyScope.READ and method.upper() not in READ_METHODS:
        raise ApiError(
            403,
            "insufficient_scope",
            f"This key has the read scope; {method.upper()} requests need a key "
            "with the write scope.",
            headers={
                "WWW-Authenticate": 'Bearer realm="partner-api", error="insufficient_scope", '
                'scope="write"'
            },
        )


def enforce_rate_limit(caller: PartnerCaller, now: float | None = None) -> dict[str, str]:
    """Count the request against the partner's minute in the key's mode; 429 when over.

    Live and test keys count apart, each against the same allowance.
    Returns the ``X-RateLimit-*`` headers to send with the answer.
    """
    limit = max(int(caller.integration.rate_limit_per_minute or 0), 1)
    now = time.time() if now is None else now
    window = int(now // 60)
    key = f"switchboard:partner-rate:{caller.partner.id}:{_mode(caller)}:{window}"
    connection = current_app.extensions["broker"].connection
    pipe = connection.pipeline()
    pipe.incr(key)
    pipe.expire(key, 120)
    count, _ = pipe.execute()
    reset = (window + 1) * 60 - now
    headers = {
        "X-RateLimit-Limit": str(limit),
        "X-RateLimit-Remaining": str(max(limit - count, 0)),
        "X-RateLimit-Reset": str(int((window + 1) * 60)),
    }
    if count > limit:
        raise ApiError(
            429,
            "rate_limited",
            f"More than {limit} requests in a minute; try again in {int(reset) + 1} s.",
            headers={**headers, "Retry-After": str(int(reset) + 1)},
        )
    return headers


def enforce_status_poll_limit(caller: PartnerCaller, partner_order_id: str) -> None:
    """One status request per order per minute.

    Per mode: a test order may share its ``partner_order_id`` with a live one,
    and polling the one must not hold up polling the other.
    """
    key = f"switchboard:partner-poll:{caller.partner.id}:{_mode(caller)}:{partner_order_id}"
    connection = current_app.extensions["broker"].connection
    if connection.set(key, "1", nx=True, ex=STATUS_POLL_SECONDS):
        return
    wait = connection.ttl(key)
    wait = wait if isinstance(wait, int) and wait > 0 else STATUS_POLL_SECONDS
    raise ApiError(
        429,
        "rate_limited",
        f"An order's status may be asked once a minute; try again in {wait} s, "
        "or subscribe to status callbacks.",
        headers={"Retry-After": str(wait)},
    )


def _mode(caller: PartnerCaller) -> str:
    # A counter per key mode; every key has one, live by default.
    return (caller.token.mode or KeyMode.LIVE).value


def _uuid_or_none(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(value)
    except (ValueError, TypeError):
        return None


def _touch(token: ApiToken, address: str) -> None:
    # Once a minute at most: a busy partner should not write a row per call
    # (but a call from a new address is told at once: "last used from").
    now = utcnow()
    address = address[:45] or None
    if (
        token.last_used_at is None
        or (now - token.last_used_at).total_seconds() > 60
        or token.last_used_ip != address
    ):
        token.last_used_at = now
        token.last_used_ip = address
        # Its own small commit, before the request's work: "last used" must hold
        # even when the request then fails (a 404, a refused scope).
        commit()
