"""Visit reminders: the day before an installation, the customer gets an e-mail.

``send_visit_reminders`` runs hourly. "Tomorrow" is Amsterdam's tomorrow; each
order is reminded once per visit date (a rescheduled visit is reminded again).
A run before 08:00 Amsterdam time hands the mail to SendGrid with ``send_at``
08:00, so nobody's phone buzzes at night.
"""

from __future__ import annotations

import logging
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from app.conversations.channels.email.orders import customer_of, reminder_data
from app.conversations.channels.email.records import already_sent
from app.conversations.channels.email.transactional import send_transactional
from app.platform.database import utcnow
from app.platform.extensions import db
from app.platform.models import Order
from app.platform.models.enums import OrderStatus
from app.platform.models.orders import LOCK_TO_CHANGE
from app.platform.transactions import commit

log = logging.getLogger(__name__)

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
TEMPLATE_KEY = "visit_reminder"
CATEGORIES = ["visit", "reminder", "transactional"]
REMINDABLE = (OrderStatus.APPROVED, OrderStatus.SCHEDULED)
EARLIEST_LOCAL_TIME = time(8, 0)


def send_visit_reminders(now: datetime | None = None) -> int:
    """Job: remind every customer whose visit is tomorrow; returns how many were queued."""
    now = now or utcnow()
    local_now = now.astimezone(AMSTERDAM)
    tomorrow = local_now.date() + timedelta(days=1)
    query = (
        sa.select(Order)
        .where(Order.scheduled_date == tomorrow, Order.status.in_(REMINDABLE))
        .order_by(Order.id)
    )
    if db.engine.dialect.name == "postgresql":
        # Two overlapping runs split the orders between them instead of both sending.
        query = query.with_for_update(skip_locked=True, of=Order, **LOCK_TO_CHANGE)
    send_at = _send_at(local_now)
    queued = 0
    for order in db.session.scalars(query).all():
        if already_sent(order.id, TEMPLATE_KEY, visit_date=tomorrow.isoformat()):
            continue
        contact = customer_of(order)
        if contact is None:
            log.info("order %s has no customer e-mail for a reminder", order.order_number)
            continue
        send_transactional(
            contact.email,
            TEMPLATE_KEY,
            reminder_data(order, contact),
            CATEGORIES,
            send_at,
            contact=contact,
            order=order,
            subject=f"Herinnering: installatie morgen ({order.order_number})",
            extra={"visit_date": tomorrow.isoformat()},
        )
        queued += 1
    commit()
    if queued:
        log.info("queued %d visit reminder(s) for %s", queued, tomorrow.isoformat())
    return queued


def _send_at(local_now: datetime) -> datetime | None:
    if local_now.time() >= EARLIEST_LOCAL_TIME:
        return None
    return datetime.combine(local_now.date(), EARLIEST_LOCAL_TIME, tzinfo=AMSTERDAM)
