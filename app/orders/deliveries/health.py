"""The integration health on the partner integration, kept after every attempt."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

import sqlalchemy as sa

from app.platform.extensions import db
from app.platform.models import DeliveryAttempt, OutboundDelivery, PartnerIntegration

WINDOW = timedelta(hours=24)


def record_attempt_health(
    integration: PartnerIntegration, *, delivered: bool, at: datetime, error: str | None
) -> None:
    """Update ``last_sync_at``/``last_error_*`` and the 24 h ``success_rate`` (no commit).

    The attempt itself must be in the session already (it is flushed here).
    """
    if delivered:
        integration.last_sync_at = at
    else:
        integration.last_error_at = at
        integration.last_error_message = (error or "failed")[:2000]
    db.session.flush()
    integration.success_rate = success_rate(integration, at)


def success_rate(integration: PartnerIntegration, now: datetime) -> Decimal | None:
    """Percentage of 2xx attempts to this partner over the last 24 hours (None: no attempts)."""
    row = db.session.execute(
        sa.select(
            sa.func.count(DeliveryAttempt.id),
            sa.func.count(DeliveryAttempt.id).filter(
                DeliveryAttempt.status_code >= 200, DeliveryAttempt.status_code < 300
            ),
        )
        .join(OutboundDelivery, OutboundDelivery.id == DeliveryAttempt.delivery_id)
        .where(
            OutboundDelivery.partner_integration_id == integration.id,
            DeliveryAttempt.created_at >= now - WINDOW,
        )
    ).one()
    total, succeeded = row
    if not total:
        return None
    return (Decimal(succeeded) * 100 / Decimal(total)).quantize(Decimal("0.01"))
