"""Shared by the calendar tests: a visit planned through ``plan_visit``, and its events."""

from __future__ import annotations

from datetime import date, timedelta
from urllib.parse import urlsplit

import sqlalchemy as sa

from app.orders.calendar_sync.subscriptions import renew_calendar_subscriptions
from app.orders.core.planning import plan_visit
from app.orders.mobile.services import local_today
from app.platform.extensions import db
from app.platform.models import CalendarEvent, Order
from app.platform.models.enums import ChannelType
from app.platform.transactions import commit
from tests.support import factories, mobile_support

WINDOW = "ochtend (08:00-12:00)"


def planned_visit(technician, *, day: date | None = None, number: str = "CC-2026-00042") -> Order:
    """An approved order with the morning window, planned for ``technician`` (tomorrow)."""
    order = mobile_support.visit(
        None, number=number, day=None, preferences={"time_window": WINDOW}, with_whatsapp=False
    )
    order.scheduled_date = None
    db.session.commit()
    plan(order, technician_id=technician.id, scheduled_date=day or local_today() + timedelta(1))
    return order


def plan(order: Order, **changes) -> None:
    """Change the plan as a planner would: through ``plan_visit``, committed."""
    plan_visit(db.session.get(Order, order.id), **changes)
    commit()


def rows_of(order: Order) -> list[CalendarEvent]:
    db.session.expire_all()
    return list(
        db.session.scalars(sa.select(CalendarEvent).where(CalendarEvent.order_id == order.id))
    )


def subscribe_calendars(client, graph) -> None:
    """Create the agents' calendar subscriptions, Graph checking our webhook first."""

    def validate(url):
        parts = urlsplit(url)
        response = client.post(f"{parts.path}?{parts.query}", content_type="text/plain")
        return response.status_code, response.mimetype, response.get_data(as_text=True)

    graph.validator = validate
    assert renew_calendar_subscriptions() >= 1
    commit()


def customer_with_conversation(email: str = "jan@example.nl", name: str = "Jan Jansen"):
    """A customer with an older and a newer conversation (the newer is the follow-up's)."""
    channel = factories.channel(ChannelType.EMAIL_OUTLOOK, channel_name="Outlook")
    contact = factories.contact(display_name=name, email=email)
    factories.thread(channel, contact, minutes_ago=600, thread_subject="Oude vraag")
    latest = factories.thread(channel, contact, minutes_ago=5, thread_subject="Offerte")
    db.session.commit()
    return contact, latest
