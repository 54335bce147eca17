"""Follow-ups from Outlook: a meeting booked with a customer becomes a task.

Graph notifies the agent's calendar subscription at the Outlook webhook; the job
fetches the meeting from the fake Graph and makes, moves or cancels the task.
"""

from __future__ import annotations

import json
from datetime import datetime, time, timedelta, timezone

import pytest
import sqlalchemy as sa

from app.orders.calendar_sync.subscriptions import renew_calendar_subscriptions
from app.orders.calendar_sync.visit_times import AMSTERDAM
from app.orders.mobile.services import local_today
from app.platform.extensions import db
from app.platform.models import CalendarSubscription, InternalTask
from app.platform.models.enums import TaskStatus, TaskType
from tests.support.calendar_support import customer_with_conversation, subscribe_calendars
from tests.support.outlook_support import WEBHOOK, events_processed, graph_fake, outlook_app, settle

graph = pytest.fixture(graph_fake, name="graph")
app = pytest.fixture(outlook_app, name="app")

ANOUK = "anouk@chargecars.nl"


def _notify(client, payload):
    return client.post(WEBHOOK, data=json.dumps(payload), content_type="application/json")


def _at(days: int, hour: int) -> datetime:
    return datetime.combine(local_today() + timedelta(days=days), time(hour), AMSTERDAM)


def _tasks() -> list[InternalTask]:
    db.session.expire_all()
    return list(db.session.scalars(sa.select(InternalTask)))


@pytest.fixture
def anouk(app, client, graph, make_user):
    agent = make_user("agent", email=ANOUK)
    subscribe_calendars(client, graph)
    return agent


def test_agents_calendars_are_subscribed_at_the_outlook_webhook(app, client, graph, make_user):
    make_user("agent", email=ANOUK)
    make_user("technician", email="piet@chargecars.nl")
    make_user("agent", email="bram@chargecars.nl", outlook_calendar=False)
    subscribe_calendars(client, graph)
    subscription = graph.events_subscription(ANOUK)
    assert subscription["changeType"] == "created,updated,deleted"
    assert subscription["notificationUrl"].endswith(WEBHOOK)
    resources = {s["resource"] for s in graph.subscriptions.values()}
    assert "users/piet@chargecars.nl/events" not in resources
    assert "users/bram@chargecars.nl/events" not in resources
    # The secret is kept encrypted, and a second run renews nothing yet.
    assert renew_calendar_subscriptions() == 0
    raw = db.session.execute(sa.text("SELECT client_state FROM calendar_subscription")).scalar()
    assert raw != subscription["clientState"]
    assert db.session.scalar(sa.select(CalendarSubscription.mailbox)) == ANOUK


def test_a_meeting_with_a_customer_becomes_one_task_that_follows_the_meeting(
    app, client, graph, anouk
):
    customer, latest = customer_with_conversation()
    meeting = graph.book_meeting(
        ANOUK,
        subject="Offerte laadpaal bespreken",
        start=_at(2, 10),
        end=_at(2, 11),
        attendees=("Jan@Example.nl", "collega@chargecars.nl"),
    )
    created = graph.event_notification(graph.events_subscription(ANOUK), meeting["id"])
    for _ in range(2):  # Graph redelivers
        assert _notify(client, created).status_code == 202
    assert settle(app, events_processed)

    (task,) = _tasks()
    assert task.task_title == "Opvolging: Offerte laadpaal bespreken"
    assert task.task_type == TaskType.FOLLOW_UP
    assert task.thread_id == latest.id
    assert task.assigned_to_user_id == anouk.id
    assert (task.due_date, task.due_time) == (local_today() + timedelta(days=2), "10:00")
    fetched = [r for r in graph.requests if r.method == "GET" and "/events/" in r.path]
    assert fetched[0].headers["Prefer"] == 'outlook.timezone="UTC"'

    # Moved in Outlook: the task moves along, and stays one task.
    moved = _at(3, 14).astimezone(timezone.utc).replace(tzinfo=None).isoformat()
    graph.change_event(meeting["id"], start={"dateTime": moved, "timeZone": "UTC"})
    updated = graph.event_notification(graph.events_subscription(ANOUK), meeting["id"], "updated")
    _notify(client, updated)
    _notify(client, updated)
    assert settle(app, events_processed)
    (task,) = _tasks()
    assert (task.due_date, task.due_time) == (local_today() + timedelta(days=3), "14:00")

    # Cancelled in Outlook: the task is cancelled.
    graph.change_event(meeting["id"], isCancelled=True)
    _notify(
        client, graph.event_notification(graph.events_subscription(ANOUK), meeting["id"], "updated")
    )
    assert settle(app, events_processed)
    (task,) = _tasks()
    assert task.status == TaskStatus.CANCELLED


def test_a_deleted_meeting_cancels_its_task(app, client, graph, anouk):
    customer_with_conversation()
    meeting = graph.book_meeting(
        ANOUK, subject="Nazorg", start=_at(1, 9), end=_at(1, 10), attendees=("jan@example.nl",)
    )
    subscription = graph.events_subscription(ANOUK)
    _notify(client, graph.event_notification(subscription, meeting["id"]))
    assert settle(app, events_processed)
    graph.remove_event(meeting["id"])
    _notify(client, graph.event_notification(subscription, meeting["id"], "deleted"))
    assert settle(app, events_processed)
    (task,) = _tasks()
    assert task.status == TaskStatus.CANCELLED


def test_meetings_without_a_customer_make_no_task(app, client, graph, anouk, make_user):
    make_user("agent", email="bram@chargecars.nl")
    meeting = graph.book_meeting(
        ANOUK,
        subject="Teamoverleg",
        start=_at(1, 9),
        end=_at(1, 10),
        attendees=("bram@chargecars.nl", "onbekend@example.com"),
    )
    _notify(client, graph.event_notification(graph.events_subscription(ANOUK), meeting["id"]))
    assert settle(app, events_processed)
    assert _tasks() == []


def test_a_notification_with_another_client_state_is_refused(app, client, graph, anouk):
    meeting = graph.book_meeting(
        ANOUK, subject="X", start=_at(1, 9), end=_at(1, 10), attendees=("jan@example.nl",)
    )
    payload = graph.event_notification(graph.events_subscription(ANOUK), meeting["id"])
    payload["value"][0]["clientState"] = "not-ours"
    response = _notify(client, payload)
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "invalid_client_state"
