"""The partner's callbacks (OutboundDelivery of kind partner callback) and replaying them.

Only the user's own organisation's integration: a parent never sees its
sub-partners' deliveries. A replay goes through
:func:`app.orders.deliveries.services.retry_delivery` like an admin's retry.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
import sqlalchemy.orm as so

from app.orders.deliveries.services import retry_delivery
from app.platform.audit.records import record_change
from app.platform.extensions import db
from app.platform.models import OutboundDelivery, PartnerIntegration, User
from app.platform.models.enums import DeliveryKind, OutboundState
from app.platform.transactions import commit

PAGE_SIZE = 25
# A "replay all failed since" re-queues at most this many (oldest first).
MAX_REPLAY = 500
PAYLOAD_EXCERPT = 4000


@dataclass
class DeliveryPage:
    deliveries: list[OutboundDelivery]
    state: str
    page: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // PAGE_SIZE))


def _callbacks(integration: PartnerIntegration):
    return sa.select(OutboundDelivery).where(
        OutboundDelivery.partner_integration_id == integration.id,
        OutboundDelivery.kind == DeliveryKind.PARTNER_CALLBACK,
    )


def list_deliveries(integration: PartnerIntegration, state: str, page: int) -> DeliveryPage:
    """One page of the integration's callbacks, newest first, with their attempts."""
    query = _callbacks(integration)
    if state in OutboundState.values():
        query = query.where(OutboundDelivery.state == OutboundState(state))
    else:
        state = ""
    total = db.session.scalar(sa.select(sa.func.count()).select_from(query.subquery())) or 0
    rows = db.session.scalars(
        query.options(so.selectinload(OutboundDelivery.attempts))
        .order_by(OutboundDelivery.created_at.desc(), OutboundDelivery.id.desc())
        .offset((page - 1) * PAGE_SIZE)
        .limit(PAGE_SIZE)
    )
    return DeliveryPage(list(rows), state, page, total)


def find_delivery(integration: PartnerIntegration | None, delivery_id: uuid.UUID):
    """The integration's callback ``delivery_id``, or None (another partner's is not found)."""
    if integration is None:
        return None
    return db.session.scalar(_callbacks(integration).where(OutboundDelivery.id == delivery_id))


def payload_text(delivery: OutboundDelivery) -> str:
    """The body as sent (or the payload), pretty-printed and cut to an excerpt."""
    text = delivery.body
    try:
        text = json.dumps(json.loads(text) if text else delivery.payload, indent=2)
    except ValueError:
        text = text or ""
    return text[:PAYLOAD_EXCERPT]


def replay(delivery: OutboundDelivery, user: User) -> OutboundDelivery:
    """Send ``delivery`` once more now; commits. ValueError says why it cannot be."""
    record_change(
        OutboundDelivery.__tablename__,
        delivery.id,
        "PORTAL_DELIVERY_REPLAYED",
        {"event_type": delivery.event_type, "state": str(delivery.state)},
        user_id=user.id,
    )
    return retry_delivery(delivery.id, user)


def replay_failed_since(integration: PartnerIntegration, since: datetime, user: User) -> int:
    """Re-queue the integration's failed callbacks made since ``since`` (at most MAX_REPLAY).

    Returns how many were re-queued; each commits on its own (retry_delivery).
    Raises ValueError when the endpoint is disabled (nothing is re-queued).
    """
    ids = list(
        db.session.scalars(
            _callbacks(integration)
            .with_only_columns(OutboundDelivery.id)
            .where(
                OutboundDelivery.state == OutboundState.FAILED,
                OutboundDelivery.created_at >= since,
            )
            .order_by(OutboundDelivery.created_at)
            .limit(MAX_REPLAY)
        )
    )
    if integration.webhook_disabled_at is not None and ids:
        raise ValueError("disabled")
    record_change(
        "partner_integrations",
        integration.id,
        "PORTAL_DELIVERIES_REPLAYED",
        {"since": since.isoformat(), "count": len(ids)},
        user_id=user.id,
    )
    commit()
    count = 0
    for delivery_id in ids:
        try:
            retry_delivery(delivery_id, user)
        except (LookupError, ValueError):
            db.session.rollback()  # sent meanwhile, or gone: skip it
            continue
        count += 1
    return count
