"""Visit reminders by e-mail: the day before each visit, the customer gets one.

The order context's reminder job (``app.orders.visit_reminders``) calls
:func:`remind_by_email` for each customer it reaches by e-mail. "Tomorrow" is
Amsterdam's tomorrow. An order may have several visits (a second day, a return
for a missing part), each on its own day: each is reminded on the day before
it, once per visit and date (a rescheduled visit is reminded again). The mail's
``extra`` keeps the visit's number and date, which is what marks it sent. A
visit's day is its own (an order planned without a visit plan, a synced work
order, has the order's day); only a visit not yet started is reminded of.
A run before 08:00 Amsterdam time hands the mail to SendGrid with ``send_at``
08:00, so nobody's phone buzzes at night.
"""

from __future__ import annotations

import logging
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
import sqlalchemy.orm as so

from app.conversations.channels.email.orders import customer_of, reminder_data
from app.conversations.channels.email.records import already_sent
from app.conversations.channels.email.transactional import send_transactional
from app.platform.database import utcnow
from app.platform.extensions import db
from app.platform.models import Order, Visit
from app.platform.models.enums import OrderStatus
from app.platform.models.orders import LOCK_TO_CHANGE
from app.platform.transactions import commit

log = logging.getLogger(__name__)

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
TEMPLATE_KEY = "visit_reminder"
CATEGORIES = ["visit", "reminder", "transactional"]
REMINDABLE = (OrderStatus.APPROVED, OrderStatus.SCHEDULED)
# An order stays in progress between its visits: a later one, not yet started, is due.
BETWEEN_VISITS = (OrderStatus.IN_PROGRESS,)
EARLIEST_LOCAL_TIME = time(8, 0)


def send_visit_reminders(now: datetime | None = None) -> int:
    """Remind every customer whose visit is tomorrow by e-mail; returns how many were
    queued. (The scheduled run is the order context's, which picks each customer's
    channel and calls :func:`remind_by_email` for those reached by e-mail.)"""
    now = now or utcnow()
    local_now = now.astimezone(AMSTERDAM)
    tomorrow = local_now.date() + timedelta(days=1)
    send_at = _send_at(local_now)
    queued = 0
    for order in db.session.scalars(orders_to_remind(tomorrow)).all():
        queued += remind_by_email(order, tomorrow, send_at)
    commit()
    if queued:
        log.info("queued %d visit reminder(s) for %s", queued, tomorrow.isoformat())
    return queued


def orders_to_remind(day: date) -> sa.Select:
    """The orders with a visit on ``day`` that may be reminded of, locked on PostgreSQL."""
    visits_that_day = sa.select(Visit.order_id).where(Visit.scheduled_date == day)
    query = (
        sa.select(Order)
        .options(so.selectinload(Order.visits))
        .where(
            sa.or_(Order.scheduled_date == day, Order.id.in_(visits_that_day)),
            Order.status.in_(REMINDABLE + BETWEEN_VISITS),
        )
        .order_by(Order.id)
    )
    if db.engine.dialect.name == "postgresql":
        # Two overlapping runs split the orders between them instead of both sending.
        query = query.with_for_update(skip_locked=True, of=Order, **LOCK_TO_CHANGE)
    return query


def remind_by_email(order: Order, day: date, send_at: datetime | None = None) -> int:
    """E-mail the customer of ``order`` about each of its visits on ``day`` not yet
    reminded of; returns how many mails were queued. No commit."""
    queued = 0
    for number, visit in visits_on(order, day):
        if _reminded(order, number, day):
            continue
        contact = customer_of(order)
        if contact is None:
            log.info("order %s has no customer e-mail for a reminder", order.order_number)
            break
        send_transactional(
            contact.email,
            TEMPLATE_KEY,
            reminder_data(order, contact, visit),
            CATEGORIES,
            send_at,
            contact=contact,
            order=order,
            subject=(
                f"Herinnering: vervolgbezoek morgen ({order.order_number})"
                if number > 1
                else f"Herinnering: installatie morgen ({order.order_number})"
            ),
            extra={"visit_date": day.isoformat(), "visit_number": str(number)},
        )
        queued += 1
    return queued


def visits_on(order: Order, day: date) -> list[tuple[int, Visit | None]]:
    """The order's visits on ``day`` not yet started, by number; (1, None) for an
    order planned without a visit plan (a synced work order)."""
    visits = list(order.visits)
    if not visits:
        planned = order.scheduled_date == day and order.status in REMINDABLE
        return [(1, None)] if planned else []
    current = order.visit
    found = []
    for visit in visits:
        when = visit.scheduled_date
        if when is None and visit is current:
            # An unplanned first visit's row beside the order's own day (a synced work order).
            when = order.scheduled_date
        if when == day and visit.started_at is None and visit.completed_at is None:
            found.append((visit.number, visit))
    return found


def _reminded(order: Order, number: int, day: date) -> bool:
    number_text = str(number)
    if already_sent(order.id, TEMPLATE_KEY, visit_date=day.isoformat(), visit_number=number_text):
        return True
    # Reminders from before an order could have several visits were its first visit's.
    return number == 1 and already_sent(
        order.id, TEMPLATE_KEY, visit_date=day.isoformat(), visit_number=None
    )


def _send_at(local_now: datetime) -> datetime | None:
    if local_now.time() >= EARLIEST_LOCAL_TIME:
        return None
    return datetime.combine(local_now.date(), EARLIEST_LOCAL_TIME, tzinfo=AMSTERDAM)
