"""Planned visits in technicians' Outlook calendars, through the fake Graph."""

from __future__ import annotations

from datetime import timedelta

import pytest

from app.orders.calendar_sync.jobs import reconcile_calendars, sync_visit_calendar
from app.orders.core.status_engine import change_entity_status
from app.orders.mobile.services import local_today
from app.platform.extensions import db
from app.platform.models import Order
from app.platform.models.enums import OrderStatus
from app.platform.transactions import commit
from tests.support.calendar_support import plan, planned_visit, rows_of
from tests.support.jobs import drain_queues
from tests.support.outlook_support import graph_fake, outlook_app

graph = pytest.fixture(graph_fake, name="graph")
app = pytest.fixture(outlook_app, name="app")


def _events_path(mailbox: str) -> str:
    return f"/v1.0/users/{mailbox}/events"


def test_a_planned_visit_becomes_an_event_in_the_technicians_outlook_calendar(
    app, graph, make_user
):
    piet = make_user("technician", email="piet@chargecars.nl")
    order = planned_visit(piet)
    drain_queues(app)

    (event,) = graph.events_of("piet@chargecars.nl")
    day = (local_today() + timedelta(days=1)).isoformat()
    assert event["subject"] == "Bezoek CC-2026-00042 · Jan Jansen"
    assert event["location"] == {"displayName": "Stationsstraat 12 A, 3511 AB Utrecht"}
    assert event["start"] == {"dateTime": f"{day}T08:00:00", "timeZone": "Europe/Amsterdam"}
    assert event["end"] == {"dateTime": f"{day}T12:00:00", "timeZone": "Europe/Amsterdam"}
    assert event["isAllDay"] is False
    assert "Meterkast in de garage" in event["body"]["content"]
    assert "Alfen Eve Single S-line 11 kW" in event["body"]["content"]
    (create,) = [r for r in graph.requests if r.method == "POST" and "/events" in r.path]
    (row,) = rows_of(order)
    assert create.json()["transactionId"] == row.transaction_id
    assert (row.graph_event_id, row.mailbox) == (event["id"], "piet@chargecars.nl")


def test_moving_reassigning_and_cancelling_move_and_delete_the_events(app, graph, make_user):
    piet = make_user("technician", email="piet@chargecars.nl")
    kees = make_user("technician", email="kees@chargecars.nl")
    order = planned_visit(piet)
    drain_queues(app)
    (first,) = graph.events_of("piet@chargecars.nl")

    later = local_today() + timedelta(days=3)
    plan(order, scheduled_date=later)
    drain_queues(app)
    (moved,) = graph.events_of("piet@chargecars.nl")
    assert moved["id"] == first["id"]
    assert moved["start"]["dateTime"] == f"{later.isoformat()}T08:00:00"
    assert [r.method for r in graph.requests if "/events" in r.path] == ["POST", "PATCH"]

    plan(order, technician_id=kees.id)
    drain_queues(app)
    assert graph.events_of("piet@chargecars.nl") == []
    (taken_over,) = graph.events_of("kees@chargecars.nl")
    assert taken_over["start"]["dateTime"] == f"{later.isoformat()}T08:00:00"
    rows = {row.technician_id: row for row in rows_of(order)}
    assert rows[piet.id].cancelled_at is not None and rows[piet.id].graph_event_id is None
    assert rows[kees.id].cancelled_at is None

    live = db.session.get(Order, order.id)
    live.status = OrderStatus.APPROVED
    change_entity_status(live, OrderStatus.CANCELLED, "Klant ziet ervan af")
    commit()
    drain_queues(app)
    assert graph.events_of("kees@chargecars.nl") == []
    assert all(row.cancelled_at is not None for row in rows_of(order))


def test_a_retry_after_a_lost_answer_does_not_make_a_second_event(app, graph, make_user):
    piet = make_user("technician", email="piet@chargecars.nl")
    order = planned_visit(piet)
    drain_queues(app)
    # The worker made the event, then died before it could store Graph's answer.
    (row,) = rows_of(order)
    row.graph_event_id = row.mailbox = row.synced_sequence = None
    commit()
    sync_visit_calendar(str(order.id))
    sync_visit_calendar(str(order.id))

    assert len(graph.events_of("piet@chargecars.nl")) == 1
    assert graph.events_created["piet@chargecars.nl"] == 1
    (row,) = rows_of(order)
    assert row.graph_event_id == graph.events_of("piet@chargecars.nl")[0]["id"]


def test_the_users_microsoft_account_and_outlook_setting_decide_the_calendar(app, graph, make_user):
    piet = make_user(
        "technician", email="piet@chargecars.nl", calendar_mailbox="p.devries@chargecars.nl"
    )
    henk = make_user("technician", email="henk@chargecars.nl", outlook_calendar=False)
    order = planned_visit(piet)
    other = planned_visit(henk, number="CC-2026-00043")
    drain_queues(app)
    assert len(graph.events_of("p.devries@chargecars.nl")) == 1
    assert graph.events_of("piet@chargecars.nl") == []
    assert graph.events_of("henk@chargecars.nl") == []
    # Henk's visit is still his, in his feed.
    (row,) = rows_of(other)
    assert row.cancelled_at is None and row.graph_event_id is None
    assert rows_of(order)[0].mailbox == "p.devries@chargecars.nl"


def test_an_outlook_event_deleted_by_hand_is_made_again_when_the_visit_moves(app, graph, make_user):
    piet = make_user("technician", email="piet@chargecars.nl")
    order = planned_visit(piet)
    drain_queues(app)
    (event,) = graph.events_of("piet@chargecars.nl")
    graph.remove_event(event["id"])
    plan(order, scheduled_date=local_today() + timedelta(days=5))
    drain_queues(app)
    (again,) = graph.events_of("piet@chargecars.nl")
    assert again["id"] != event["id"]


def test_the_sweep_puts_right_what_a_lost_job_left_behind(app, graph, make_user, monkeypatch):
    piet = make_user("technician", email="piet@chargecars.nl")
    # The job queued by the plan is lost (its worker killed before it began).
    monkeypatch.setattr(
        "app.orders.calendar_sync.listeners.queue_visit_sync", lambda order_id: None
    )
    planned_visit(piet)
    drain_queues(app)
    assert graph.events_of("piet@chargecars.nl") == []

    assert reconcile_calendars() == 1
    drain_queues(app)
    assert len(graph.events_of("piet@chargecars.nl")) == 1
    assert reconcile_calendars() == 0


def test_a_graph_failure_is_kept_on_the_row_and_the_retry_makes_the_event(
    app, graph, make_user, monkeypatch
):
    piet = make_user("technician", email="piet@chargecars.nl")
    # Only this test's calls run the sync (not the job the plan queues).
    monkeypatch.setattr(
        "app.orders.calendar_sync.listeners.queue_visit_sync", lambda order_id: None
    )
    graph.fail_next("/events", 503)
    order = planned_visit(piet)
    drain_queues(app)  # the embedded worker idle (SQLite has one writer)
    with pytest.raises(Exception, match="503"):
        sync_visit_calendar(str(order.id))
    (row,) = rows_of(order)
    assert "503" in row.last_error and row.graph_event_id is None
    sync_visit_calendar(str(order.id))
    (row,) = rows_of(order)
    assert row.last_error is None and len(graph.events_of("piet@chargecars.nl")) == 1
