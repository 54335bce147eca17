"""The customer confirms tomorrow's visit on their own page, as the reminder asks.

The reminder the day before (:mod:`app.orders.visit_reminders`) asks every customer
to confirm: on WhatsApp with a button, by e-mail with the link to this page. The
page offers "Bevestigen" from the reminder time on the day before the visit's day
until that day. The answer is kept where the WhatsApp button's is, on the visit's
reminder row for that day (made here for a customer reminded by e-mail, which keeps
no row), so the board, the technician's card and the partner's ``visit_confirmed``
follow the same way, once.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

import sqlalchemy as sa

from app.orders.mobile.services import AMSTERDAM
from app.orders.mobile.visits import visit_started
from app.orders.visit_reminders.answers import confirm_visit, still_planned
from app.orders.visit_reminders.sending import PAGE, claim_reminder
from app.orders.visit_reminders.settings import reminder_time
from app.platform.database import utcnow
from app.platform.extensions import db
from app.platform.models import Order, Visit, VisitReminder
from app.platform.models.enums import OrderStatus
from app.platform.models.orders import LOCK_TO_CHANGE
from app.platform.transactions import commit

# What the page shows: the button, or the thanks once confirmed.
ASK, CONFIRMED = "ask", "confirmed"
# What a press did.
DONE, ALREADY, NOT_NOW = "confirmed", "already", "not_now"


def confirm_state(order: Order, visit: Visit | None, now: datetime | None = None) -> str | None:
    """``ask`` while the visit may be confirmed and is not, ``confirmed`` once it is,
    None when there is nothing to confirm (no visit tomorrow, or not yet the time)."""
    if not _askable(order, visit, now or utcnow()):
        return None
    confirmed = db.session.scalar(
        sa.select(VisitReminder.confirmed_at).where(
            VisitReminder.visit_id == visit.id,
            VisitReminder.visit_date == visit.scheduled_date,
        )
    )
    return CONFIRMED if confirmed is not None else ASK


def confirm_on_page(order_id: uuid.UUID, now: datetime | None = None) -> str:
    """The customer pressed "Bevestigen" (commits): ``confirmed``, ``already`` or
    ``not_now`` when the visit is not one to confirm (moved, started, not tomorrow)."""
    now = now or utcnow()
    # The order first, as every writer of its visits locks it.
    order = db.session.scalar(
        sa.select(Order).where(Order.id == order_id).with_for_update(**LOCK_TO_CHANGE)
    )
    visit = order.visit if order is not None else None
    if not _askable(order, visit, now):
        db.session.rollback()
        return NOT_NOW
    day = visit.scheduled_date
    claim_reminder(order, visit, day, PAGE)
    reminder = db.session.scalar(
        sa.select(VisitReminder)
        .where(VisitReminder.visit_id == visit.id, VisitReminder.visit_date == day)
        .with_for_update()
    )
    if not still_planned(order, visit, reminder):
        db.session.rollback()
        return NOT_NOW
    outcome = DONE if confirm_visit(order, visit, reminder) else ALREADY
    commit()
    return outcome


def _askable(order: Order | None, visit: Visit | None, now: datetime) -> bool:
    if order is None or visit is None or visit.scheduled_date is None:
        return False
    if order.status in (OrderStatus.CANCELLED, OrderStatus.COMPLETED):
        return False
    if visit.completed_at is not None or visit_started(order, visit):
        return False
    local = now.astimezone(AMSTERDAM)
    # The day before, from the reminder time on; on the day itself still (a customer
    # who reads the reminder late in the evening, or in the morning).
    if visit.scheduled_date == local.date():
        return True
    return visit.scheduled_date == local.date() + timedelta(days=1) and (
        local.time() >= reminder_time()
    )
