"""An order with two visits in the technician's calendars: each visit its own event.

Planned through the planning service (a second day added to an order), read back
through the technician's iCalendar feed and the sandboxed Outlook sync.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import icalendar
import pytest
import sqlalchemy as sa

from app.orders.calendar_sync.jobs import reconcile_calendars
from app.orders.core.status_engine import change_entity_status
from app.orders.mobile.services import local_today
from app.platform.extensions import db
from app.platform.models import CalendarEvent, Order, Visit
from app.platform.models.enums import OrderStatus
from app.platform.transactions import commit
from tests.orders.test_calendar_feed import _feed, _make_link
from tests.support.jobs import drain_queues
from tests.support.planning_support import approved_order, working_day
from tests.support.visits_support import plan_number, take_back, two_visits

AMSTERDAM = ZoneInfo("Europe/Amsterdam")


@pytest.fixture
def planner(make_user):
    return make_user("team_lead", language="nl")


@pytest.fixture
def piet(make_user):
    return make_user("technician", email="piet@chargecars.nl", skills=["alfen"], language="nl")


def _events(client, url) -> dict[str, icalendar.Event]:
    """The feed's events by their start date."""
    calendar = icalendar.Calendar.from_ical(_feed(client, url).data)
    events = calendar.walk("VEVENT")
    return {event.decoded("DTSTART").date(): event for event in events}


def test_each_visit_of_an_order_is_its_own_event_in_the_feed(
    app, client, auth, planner, piet, make_user
):
    order = approved_order()
    first, second = working_day(7), working_day(9)
    two_visits(order, [piet], first, second, planner)
    drain_queues(app)
    auth.login("piet@chargecars.nl")
    url = _make_link(client, auth)

    events = _events(client, url)
    assert set(events) == {first, second}
    one, two = events[first], events[second]
    assert str(one["UID"]) != str(two["UID"])
    assert str(one["SUMMARY"]) == "Bezoek CC-2026-00101 · Jan Jansen"
    assert str(two["SUMMARY"]) == "Bezoek CC-2026-00101 (bezoek 2) · Jan Jansen"
    assert one.decoded("DTSTART") == datetime.combine(first, time(8), AMSTERDAM)
    assert two.decoded("DTSTART") == datetime.combine(second, time(13), AMSTERDAM)
    assert two.decoded("DTEND") == datetime.combine(second, time(17), AMSTERDAM)
    assert one["SEQUENCE"] == two["SEQUENCE"] == 0
    rows = db.session.scalars(sa.select(CalendarEvent).order_by(CalendarEvent.visit_number)).all()
    assert [(row.visit_number, row.technician_id) for row in rows] == [(1, piet.id), (2, piet.id)]
    assert rows[0].transaction_id != rows[1].transaction_id

    # Moving visit 2 moves only its event: the same UID, a higher SEQUENCE.
    third = working_day(11)
    plan_number(order, 2, [piet], third, planner, time(13), time(17))
    drain_queues(app)
    events = _events(client, url)
    assert set(events) == {first, third}
    assert str(events[third]["UID"]) == str(two["UID"]) and events[third]["SEQUENCE"] == 1
    assert str(events[first]["UID"]) == str(one["UID"]) and events[first]["SEQUENCE"] == 0

    # Visit 2 given to Kees: Piet's visit-2 event is cancelled, his visit 1 stands.
    kees = make_user("technician", email="kees@chargecars.nl", skills=["alfen"], language="nl")
    plan_number(order, 2, [kees], third, planner, time(13), time(17))
    drain_queues(app)
    events = _events(client, url)
    assert str(events[third]["STATUS"]) == "CANCELLED"
    assert str(events[first]["STATUS"]) == "CONFIRMED" and events[first]["SEQUENCE"] == 0
    kees_rows = db.session.scalars(
        sa.select(CalendarEvent).where(CalendarEvent.technician_id == kees.id)
    ).all()
    assert [(row.visit_number, row.cancelled_at) for row in kees_rows] == [(2, None)]


def test_taking_back_visit_two_cancels_only_its_event_and_cancelling_the_order_all(
    app, client, auth, planner, piet
):
    order = approved_order()
    first, second = working_day(7), working_day(9)
    two_visits(order, [piet], first, second, planner)
    drain_queues(app)
    auth.login("piet@chargecars.nl")
    url = _make_link(client, auth)

    take_back(order, 2, planner)
    drain_queues(app)
    events = _events(client, url)
    assert str(events[second]["STATUS"]) == "CANCELLED" and events[second]["SEQUENCE"] == 1
    assert str(events[first]["STATUS"]) == "CONFIRMED" and events[first]["SEQUENCE"] == 0

    # Planned again: the same event comes back (its UID), not a new one beside it.
    plan_number(order, 2, [piet], second, planner, time(13), time(17))
    drain_queues(app)
    again = _events(client, url)
    assert str(again[second]["UID"]) == str(events[second]["UID"])
    assert str(again[second]["STATUS"]) == "CONFIRMED"

    change_entity_status(db.session.get(Order, order.id), OrderStatus.CANCELLED, "Klant zegt af")
    commit()
    drain_queues(app)
    events = _events(client, url)
    assert {str(event["STATUS"]) for event in events.values()} == {"CANCELLED"}
    assert len(events) == 2


def test_the_sweep_finds_a_later_visit_when_the_orders_own_day_has_passed(
    app, planner, piet, monkeypatch
):
    """An order still in progress on a day long gone (its first visit never tapped
    done) with its second day ahead: the sweep reads the visits' days."""
    order = approved_order()
    two_visits(order, [piet], working_day(7), working_day(9), planner)
    # The jobs queued by the plans are lost (a killed worker): nothing in calendars.
    app.extensions["broker"].queue("default").empty()
    long_ago = local_today() - timedelta(days=10)
    db.session.execute(sa.update(Visit).where(Visit.number == 1).values(scheduled_date=long_ago))
    db.session.execute(sa.update(Order).values(scheduled_date=long_ago))
    commit()
    queued = []
    monkeypatch.setattr(
        "app.orders.calendar_sync.jobs.queue_visit_sync", lambda order_id: queued.append(order_id)
    )

    reconcile_calendars()

    rows = db.session.scalars(sa.select(CalendarEvent).order_by(CalendarEvent.visit_number)).all()
    assert [(row.visit_number, row.starts_at.astimezone(AMSTERDAM).date()) for row in rows] == [
        (1, long_ago),
        (2, working_day(9)),
    ]
