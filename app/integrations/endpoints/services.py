"""Outgoing webhook endpoints (``WebhookEndpoint``): what admins do with them.

An endpoint is someone's URL that hears about the platform events it
subscribes to, delivered by the partner callbacks' engine
(:mod:`app.orders.deliveries`): signed with Standard Webhooks headers and the
endpoint's own ``whsec_`` secret, its custom headers added, retried on its own
budget. The secret is shown once, when made; custom header values may hold
tokens, so they are encrypted and only their names are ever shown or audited.

What an endpoint may be (URL, events, headers, attempts) is checked in
:mod:`app.integrations.endpoints.rules`, for the page and the API alike. Every
function here works in the caller's transaction; the routes commit.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask_babel import gettext as _

from app.integrations.endpoints.events import TEST_EVENT, queue_to_endpoint
from app.integrations.endpoints.rules import EndpointForm
from app.orders.deliveries.log import DeliveryLog, describe_deliveries
from app.orders.deliveries.services import retry_delivery
from app.orders.partners.services import new_webhook_secret
from app.platform.audit.records import SECRET_CHANGED, field_changes, record_change
from app.platform.database import utcnow
from app.platform.extensions import db
from app.platform.models import OutboundDelivery, User, WebhookEndpoint
from app.platform.models.enums import OutboundState

DELIVERY_PAGE_SIZE = 50

# --- changes (audited; secrets and header values never are) -------------------------


def create_endpoint(
    form: EndpointForm, user: User, *, active: bool = True
) -> tuple[WebhookEndpoint, str]:
    """A new endpoint and its plain secret, to show once."""
    secret = new_webhook_secret()
    endpoint = WebhookEndpoint(
        url=form.url,
        description=form.description,
        events=form.events,
        secret=secret,
        custom_headers=form.custom_headers or {},
        max_attempts=form.max_attempts,
        retry_base_seconds=form.retry_base_seconds,
        is_active=active,
        created_by_user_id=user.id,
    )
    db.session.add(endpoint)
    db.session.flush()
    created = _described(endpoint) if active else {**_described(endpoint), "is_active": False}
    _audit(endpoint, "WEBHOOK_ENDPOINT_CREATED", user, created)
    return endpoint, secret


def update_endpoint(endpoint: WebhookEndpoint, form: EndpointForm, user: User) -> None:
    # Header values may be tokens: the log says only that they changed.
    before = {**_described(endpoint), "custom_headers": dict(endpoint.custom_headers or {})}
    endpoint.url = form.url
    endpoint.description = form.description
    endpoint.events = form.events
    endpoint.max_attempts = form.max_attempts
    endpoint.retry_base_seconds = form.retry_base_seconds
    if form.custom_headers is not None:
        endpoint.custom_headers = form.custom_headers
    after = {**_described(endpoint), "custom_headers": dict(endpoint.custom_headers or {})}
    changes = field_changes(before, after, secret=("custom_headers",))
    if changes:
        _audit(endpoint, "WEBHOOK_ENDPOINT_UPDATED", user, changes)


def set_active(endpoint: WebhookEndpoint, active: bool, user: User) -> None:
    """Switch an endpoint on or off; switching on also lifts a 410 block."""
    previous = endpoint.disabled_reason
    endpoint.is_active = active
    if active:
        endpoint.disabled_at = None
        endpoint.disabled_reason = None
    action = "WEBHOOK_ENDPOINT_ENABLED" if active else "WEBHOOK_ENDPOINT_DISABLED"
    _audit(endpoint, action, user, {"previous_block": previous} if active else {})


def rotate_secret(endpoint: WebhookEndpoint, user: User) -> str:
    """A new signing secret (the old one stops at once); returned to show once."""
    secret = new_webhook_secret()
    endpoint.secret = secret
    _audit(endpoint, "WEBHOOK_ENDPOINT_SECRET_ROTATED", user, {"secret": SECRET_CHANGED})
    return secret


def delete_endpoint(endpoint: WebhookEndpoint, user: User) -> None:
    """Delete the endpoint; its deliveries stay in the log (their link is cleared)."""
    _audit(endpoint, "WEBHOOK_ENDPOINT_DELETED", user, _described(endpoint))
    db.session.delete(endpoint)


def send_test_event(endpoint: WebhookEndpoint, user: User) -> OutboundDelivery:
    """One signed ``test`` delivery, one attempt, logged like any other."""
    if endpoint.disabled_at is not None or not endpoint.is_active:
        raise ValueError(_("This endpoint is switched off; switch it on before sending a test."))
    body = {
        "id": f"evt_test_{uuid.uuid4().hex[:16]}",
        "type": TEST_EVENT,
        "timestamp": utcnow().isoformat(),
        "source": "switchboard",
        "data": {"message": "A test event from Switchboard.", "subscribed": endpoint.events},
    }
    return queue_to_endpoint(endpoint, TEST_EVENT, body, triggered_by_user_id=user.id)


def retry(endpoint: WebhookEndpoint, delivery_id: uuid.UUID, user: User) -> OutboundDelivery:
    """Retry one of the endpoint's deliveries now (commits, as the engine's retry does).

    Raises LookupError for a delivery of another endpoint and ValueError with a
    message for the person when it cannot be retried.
    """
    delivery = delivery_of(endpoint, delivery_id)
    if delivery is None:
        raise LookupError(f"endpoint {endpoint.id} has no delivery {delivery_id}")
    if endpoint.disabled_at is not None or not endpoint.is_active:
        raise ValueError(_("This endpoint is switched off; switch it on before retrying."))
    return retry_delivery(delivery.id, user)


def find_endpoint(endpoint_id: uuid.UUID) -> WebhookEndpoint | None:
    return db.session.get(WebhookEndpoint, endpoint_id)


def delivery_of(endpoint: WebhookEndpoint, delivery_id: uuid.UUID) -> OutboundDelivery | None:
    """One of the endpoint's deliveries, or None (unknown, or another endpoint's)."""
    delivery = db.session.get(OutboundDelivery, delivery_id)
    if delivery is None or delivery.webhook_endpoint_id != endpoint.id:
        return None
    return delivery


# --- reading -------------------------------------------------------------------------


@dataclass(frozen=True)
class EndpointRow:
    endpoint: WebhookEndpoint
    delivered_24h: int
    failed_24h: int
    header_names: list[str]

    @property
    def state(self) -> str:
        if self.endpoint.disabled_at is not None:
            return "disabled"
        return "active" if self.endpoint.is_active else "off"


def endpoint_rows(only: WebhookEndpoint | None = None) -> list[EndpointRow]:
    """Every endpoint (or ``only`` one) with its last 24 hours of outcomes: the webhooks list."""
    query = sa.select(WebhookEndpoint).order_by(WebhookEndpoint.created_at, WebhookEndpoint.id)
    if only is not None:
        query = query.where(WebhookEndpoint.id == only.id)
    endpoints = db.session.scalars(query).all()
    since = utcnow() - timedelta(hours=24)
    counts = db.session.execute(
        sa.select(
            OutboundDelivery.webhook_endpoint_id,
            OutboundDelivery.state,
            sa.func.count(OutboundDelivery.id),
        )
        .where(
            OutboundDelivery.webhook_endpoint_id.in_([e.id for e in endpoints]),
            OutboundDelivery.created_at >= since,
        )
        .group_by(OutboundDelivery.webhook_endpoint_id, OutboundDelivery.state)
    ).all()
    tally: dict[tuple, int] = {(row[0], row[1]): row[2] for row in counts}
    return [
        EndpointRow(
            endpoint,
            tally.get((endpoint.id, OutboundState.DELIVERED), 0),
            tally.get((endpoint.id, OutboundState.FAILED), 0),
            sorted((endpoint.custom_headers or {}).keys()),
        )
        for endpoint in endpoints
    ]


def active_endpoint_count() -> int:
    return (
        db.session.scalar(
            sa.select(sa.func.count(WebhookEndpoint.id)).where(
                WebhookEndpoint.is_active.is_(True), WebhookEndpoint.disabled_at.is_(None)
            )
        )
        or 0
    )


def delivery_log(
    endpoint: WebhookEndpoint, before: str | None = None, limit: int = DELIVERY_PAGE_SIZE
) -> DeliveryLog:
    """The endpoint's deliveries, newest first, with every attempt; keyset pages.

    ``before`` is the id of the last delivery of the previous page; the answer's
    ``next_before`` that of this page's last when more follow.
    """
    query = (
        sa.select(OutboundDelivery)
        .where(OutboundDelivery.webhook_endpoint_id == endpoint.id)
        .options(so.selectinload(OutboundDelivery.attempts))
        .order_by(OutboundDelivery.created_at.desc(), OutboundDelivery.id.desc())
        .limit(limit + 1)
    )
    anchor = None
    if before:
        try:
            anchor = db.session.get(OutboundDelivery, uuid.UUID(before))
        except ValueError:
            anchor = None
    if anchor is not None:
        query = query.where(
            sa.tuple_(OutboundDelivery.created_at, OutboundDelivery.id)
            < sa.tuple_(anchor.created_at, anchor.id)
        )
    rows = list(db.session.scalars(query))
    page = rows[:limit]
    next_before = str(page[-1].id) if len(rows) > limit else None
    return describe_deliveries(page, next_before)


def _described(endpoint: WebhookEndpoint) -> dict:
    """What the audit log keeps of an endpoint: never the secret or header values."""
    return {
        "url": endpoint.url,
        "description": endpoint.description,
        "events": list(endpoint.events or []),
        "max_attempts": endpoint.max_attempts,
        "retry_base_seconds": endpoint.retry_base_seconds,
        "custom_header_names": sorted((endpoint.custom_headers or {}).keys()),
    }


def _audit(endpoint: WebhookEndpoint, action: str, user: User, changes: dict) -> None:
    record_change(WebhookEndpoint.__tablename__, endpoint.id, action, changes, user_id=user.id)
