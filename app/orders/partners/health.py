"""How each partner integration is doing, for the partner list's health dashboard.

Each figure is one grouped query over all partners, so the list costs the same
number of queries for five partners or five hundred.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

import sqlalchemy as sa
import sqlalchemy.orm as so

from app.platform.database import utcnow
from app.platform.extensions import db
from app.platform.models import (
    DeliveryAttempt,
    Order,
    Organization,
    OutboundDelivery,
    PartnerIntegration,
)
from app.platform.models.enums import DeliveryKind, OrganizationType, OutboundState
from app.platform.ui import DISPLAY_ZONE

WINDOW = timedelta(hours=24)
# Still being retried after a failed try, or given up on: both need a look.
FAILING = sa.or_(
    OutboundDelivery.state == OutboundState.FAILED,
    sa.and_(
        OutboundDelivery.state.in_((OutboundState.PENDING, OutboundState.IN_PROGRESS)),
        OutboundDelivery.attempt_count > 0,
    ),
)


@dataclass
class PartnerHealth:
    organization: Organization
    integration: PartnerIntegration | None
    attempts_24h: int = 0
    successes_24h: int = 0
    orders_today: int = 0
    failing_deliveries: int = 0

    @property
    def success_rate_24h(self) -> Decimal | None:
        """Share of callback attempts in the last 24 h that got a 2xx, in percent."""
        if not self.attempts_24h:
            return None
        return (Decimal(self.successes_24h) * 100 / self.attempts_24h).quantize(Decimal("0.1"))

    @property
    def endpoint_disabled(self) -> bool:
        return bool(self.integration and self.integration.webhook_disabled_at)


def partner_health(now: datetime | None = None) -> list[PartnerHealth]:
    """Every partner with its integration and health figures, by name."""
    now = now or utcnow()
    rows = db.session.execute(
        sa.select(Organization, PartnerIntegration)
        .outerjoin(
            PartnerIntegration, PartnerIntegration.partner_organization_id == Organization.id
        )
        .where(Organization.organization_type == OrganizationType.PARTNER)
        .options(so.selectinload(Organization.parent))
        .order_by(sa.func.lower(Organization.name), PartnerIntegration.created_at)
    ).all()
    result: list[PartnerHealth] = []
    seen: set[uuid.UUID] = set()
    for organization, integration in rows:
        # One integration per partner is the norm; an extra one is not listed twice.
        if organization.id in seen:
            continue
        seen.add(organization.id)
        result.append(PartnerHealth(organization, integration))

    attempts = callback_attempts_since(now - WINDOW)
    orders = orders_since(start_of_day(now))
    failing = failing_deliveries()
    for health in result:
        integration_id = health.integration.id if health.integration else None
        health.attempts_24h, health.successes_24h = attempts.get(integration_id, (0, 0))
        health.failing_deliveries = failing.get(integration_id, 0)
        health.orders_today = orders.get(health.organization.id, 0)
    return result


def start_of_day(now: datetime) -> datetime:
    """Midnight of ``now``'s day in the Netherlands, where "today" is meant."""
    local = now.astimezone(DISPLAY_ZONE)
    return local.replace(hour=0, minute=0, second=0, microsecond=0)


def callback_attempts_since(since: datetime) -> dict[uuid.UUID, tuple[int, int]]:
    """Per integration: (callback attempts, of which 2xx) since ``since``."""
    ok = sa.case((DeliveryAttempt.status_code.between(200, 299), 1), else_=0)
    rows = db.session.execute(
        sa.select(OutboundDelivery.partner_integration_id, sa.func.count(), sa.func.sum(ok))
        .join(DeliveryAttempt, DeliveryAttempt.delivery_id == OutboundDelivery.id)
        .where(
            OutboundDelivery.kind == DeliveryKind.PARTNER_CALLBACK,
            OutboundDelivery.partner_integration_id.is_not(None),
            DeliveryAttempt.created_at >= since,
        )
        .group_by(OutboundDelivery.partner_integration_id)
    ).all()
    return {integration_id: (total, int(good or 0)) for integration_id, total, good in rows}


def orders_since(since: datetime) -> dict[uuid.UUID, int]:
    """Per partner organization: orders created since ``since``."""
    rows = db.session.execute(
        sa.select(Order.partner_organization_id, sa.func.count())
        .where(
            Order.partner_organization_id.is_not(None),
            Order.created_at >= since,
            Order.is_test.is_(False),  # sandbox orders are not the partner's traffic
        )
        .group_by(Order.partner_organization_id)
    ).all()
    return dict(rows)


def failing_deliveries() -> dict[uuid.UUID, int]:
    """Per integration: callbacks given up on or waiting for a retry."""
    rows = db.session.execute(
        sa.select(OutboundDelivery.partner_integration_id, sa.func.count())
        .where(
            OutboundDelivery.kind == DeliveryKind.PARTNER_CALLBACK,
            OutboundDelivery.partner_integration_id.is_not(None),
            FAILING,
        )
        .group_by(OutboundDelivery.partner_integration_id)
    ).all()
    return dict(rows)
