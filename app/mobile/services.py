"""What a technician needs today."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from zoneinfo import ZoneInfo

import sqlalchemy as sa
import sqlalchemy.orm as so

from app.database import utcnow
from app.extensions import db
from app.models import Order

AMSTERDAM = ZoneInfo("Europe/Amsterdam")


def local_today(now: datetime | None = None) -> date:
    """Today's date where the technicians work, not in UTC."""
    return (now or utcnow()).astimezone(AMSTERDAM).date()


def visits_for(technician_id: uuid.UUID, day: date) -> list[Order]:
    return list(
        db.session.scalars(
            sa.select(Order)
            .options(
                so.joinedload(Order.installation_address),
                so.joinedload(Order.end_customer),
            )
            .where(Order.assigned_technician_id == technician_id, Order.scheduled_date == day)
            .order_by(Order.order_number)
        )
    )
