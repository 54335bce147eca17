"""Calendars on two ``worker.py`` processes: plan changes and Outlook follow-ups in bursts.

Planners plan, move, reassign, unplan and cancel visits in quick succession
while two real workers sync the technicians' calendars through the fake Graph.
Graph answers creations slowly, and one worker is killed while it waits for
such an answer: the event exists in Graph but the worker never stored its id.
The sweep then queues what lags and the other worker finishes it. In the end
every technician's calendar holds exactly the visits planned for them, at their
final time, each once.

Agents book meetings with customers in Outlook; Graph delivers every
notification several times (and an update besides) while two workers process
them: each meeting becomes exactly one task. Needs PostgreSQL and Redis.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime, time, timedelta

import pytest
import sqlalchemy as sa
from rq import Worker

from app.orders.calendar_sync.visit_times import AMSTERDAM, visit_slot, visit_technician_ids
from app.orders.core.status_engine import change_entity_status
from app.orders.mobile.services import local_today
from app.platform.extensions import db
from app.platform.models import CalendarEvent, InboundWebhookEvent, InternalTask, Order, User
from app.platform.models.enums import OrderStatus, ProcessingState
from app.platform.transactions import commit
from tests.conftest import TEST_DATABASE_URL, TEST_REDIS_URL, opened
from tests.support.calendar_support import (
    customer_with_conversation,
    plan,
    planned_visit,
    subscribe_calendars,
)
from tests.support.outlook_support import (
    MAILBOX,
    PUBLIC_BASE_URL,
    GraphForProcesses,
    keep_outlook_jobs_off_the_clock,
    notify,
)
from tests.support.topology import wait_until

pytestmark = pytest.mark.skipif(
    not (TEST_DATABASE_URL and TEST_REDIS_URL),
    reason="needs TEST_DATABASE_URL and TEST_REDIS_URL (PostgreSQL and Redis)",
)

SYNC_VISIT = "app.orders.calendar_sync.jobs.sync_visit_calendar"
TECHNICIANS = ("piet", "kees", "henk")
VISITS = 6


@pytest.fixture
def graph(monkeypatch):
    fake = GraphForProcesses(mailbox=MAILBOX).start()
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", fake.ca_bundle)
    yield fake
    fake.stop()


@pytest.fixture
def app(make_app, graph, monkeypatch):
    keep_outlook_jobs_off_the_clock(monkeypatch)
    settings = {**graph.app_config(), "PUBLIC_BASE_URL": PUBLIC_BASE_URL}
    with opened(make_app(start_embedded_worker=False, **settings)) as app:
        yield app


def _mailbox(name: str) -> str:
    return f"{name}@chargecars.nl"


def _expected() -> Counter:
    """(mailbox, subject, start) of every visit as planned now."""
    db.session.expire_all()
    wanted: Counter = Counter()
    for order in db.session.scalars(sa.select(Order)):
        slot = visit_slot(order) if order.status != OrderStatus.CANCELLED else None
        for technician_id in visit_technician_ids(order) if slot else []:
            email = db.session.get(User, technician_id).email
            start = slot.start.replace(tzinfo=None).isoformat(timespec="seconds")
            wanted[(email, f"Bezoek {order.order_number} · Jan Jansen", start)] += 1
    db.session.rollback()
    return wanted


def _in_graph(graph) -> Counter:
    return Counter(
        (_mailbox(name), event["subject"], event["start"]["dateTime"])
        for name in TECHNICIANS
        for event in graph.events_of(_mailbox(name))
    )


def _synced() -> bool:
    db.session.expire_all()
    lagging = db.session.scalar(
        sa.select(sa.func.count(CalendarEvent.id)).where(
            sa.or_(
                CalendarEvent.synced_sequence.is_distinct_from(CalendarEvent.sequence)
                & CalendarEvent.cancelled_at.is_(None),
                CalendarEvent.graph_event_id.is_not(None) & CalendarEvent.cancelled_at.is_not(None),
            )
        )
    )
    db.session.rollback()
    return lagging == 0


def _worker_waiting_on_graph(app, topology):
    connection = app.extensions["broker"].connection
    for rq_worker in Worker.all(connection=connection):
        current = rq_worker.get_current_job()
        if current is not None and current.func_name == SYNC_VISIT:
            return next((p for p in topology.workers() if p.pid == rq_worker.pid), None)
    return None


def test_a_burst_of_plan_changes_ends_in_each_visit_once_in_the_right_calendar(
    app, make_user, graph, deployment
):
    people = {name: make_user("technician", email=_mailbox(name)) for name in TECHNICIANS}
    topology = deployment(
        **graph.app_config(), REQUESTS_CA_BUNDLE=graph.ca_bundle, PUBLIC_BASE_URL=PUBLIC_BASE_URL
    )
    topology.start_worker()
    topology.start_worker()
    try:
        # The first creation hangs long enough for its worker to be killed waiting.
        graph.create_answer_delay = 4.0
        first = planned_visit(people["piet"], number="CC-2026-00100")
        victim = wait_until(lambda: _worker_waiting_on_graph(app, topology), 20, "a worker busy")
        wait_until(lambda: graph.events_of(_mailbox("piet")), 10, "the event made in Graph")
        victim.kill()
        graph.create_answer_delay = 0.2

        orders = [first] + [
            planned_visit(people["piet"], number=f"CC-2026-{101 + n:05d}")
            for n in range(VISITS - 1)
        ]
        today = local_today()
        for round_ in range(3):
            for n, order in enumerate(orders):
                technician = people[TECHNICIANS[(n + round_) % len(TECHNICIANS)]]
                plan(order, technician_id=technician.id)
                plan(order, scheduled_date=today + timedelta(days=2 + round_ + n))
        plan(orders[1], technician_id=None)
        plan(orders[2], scheduled_date=None)
        live = db.session.get(Order, orders[3].id)
        change_entity_status(live, OrderStatus.CANCELLED, "Klant ziet ervan af")
        commit()

        wait_until(
            lambda: app.extensions["broker"].queue("default").count == 0, 90, "the burst taken"
        )
        wait_until(lambda: _worker_waiting_on_graph(app, topology) is None, 60, "jobs done")
        # The killed worker's job is lost: the sweep (periodic on every worker; queued
        # here not to wait its ten minutes) queues what lags.
        app.extensions["broker"].queue("periodic").enqueue(
            "app.orders.calendar_sync.jobs.reconcile_calendars"
        )
        wait_until(_synced, 90, "every calendar synced", every=0.25)
        wait_until(lambda: _in_graph(graph) == _expected(), 30, "Graph as planned", every=0.25)

        expected = _expected()
        assert sum(expected.values()) == VISITS - 3
        assert set(expected.values()) == {1}
        assert _in_graph(graph) == expected
        # The killed worker's creation was asked again with its transactionId.
        creations = Counter(
            r.json()["transactionId"]
            for r in graph.requests
            if r.method == "POST" and r.path.endswith("/events")
        )
        assert max(creations.values()) >= 2
    except AssertionError:
        print(topology.report())
        raise


def _settled() -> bool:
    db.session.expire_all()
    states = db.session.scalars(sa.select(InboundWebhookEvent.processing_state)).all()
    db.session.rollback()
    done = (ProcessingState.PROCESSED, ProcessingState.FAILED, ProcessingState.IGNORED)
    return bool(states) and all(state in done for state in states)


def test_duplicate_meeting_notifications_on_two_workers_make_one_task_each(
    app, client, make_user, graph, deployment
):
    agents = [make_user("agent", email=f"agent{n}@chargecars.nl") for n in range(2)]
    subscribe_calendars(client, graph)
    customers = [
        customer_with_conversation(f"klant{n}@example.nl", f"Klant {n}")[1] for n in range(4)
    ]
    topology = deployment(
        **graph.app_config(), REQUESTS_CA_BUNDLE=graph.ca_bundle, PUBLIC_BASE_URL=PUBLIC_BASE_URL
    )
    topology.start_worker()
    topology.start_worker()
    try:
        start = datetime.combine(local_today() + timedelta(days=2), time(10), AMSTERDAM)
        payloads, meetings = [], {}
        for n, thread in enumerate(customers):
            agent = agents[n % 2]
            meeting = graph.book_meeting(
                agent.email,
                subject=f"Gesprek {n}",
                start=start + timedelta(hours=n),
                end=start + timedelta(hours=n + 1),
                attendees=(f"klant{n}@example.nl",),
            )
            meetings[meeting["id"]] = thread.id
            subscription = graph.events_subscription(agent.email)
            created = graph.event_notification(subscription, meeting["id"])
            updated = graph.event_notification(subscription, meeting["id"], "updated")
            payloads += [created, created, updated, created, updated]
        for payload in payloads:
            assert notify(client, payload).status_code == 202
        wait_until(_settled, 90, "the notifications processed", every=0.2)

        db.session.expire_all()
        tasks = db.session.scalars(sa.select(InternalTask)).all()
        db.session.rollback()
        assert Counter(task.thread_id for task in tasks) == Counter(
            {thread_id: 1 for thread_id in meetings.values()}
        )
        failed = db.session.scalar(
            sa.select(sa.func.count(InboundWebhookEvent.id)).where(
                InboundWebhookEvent.processing_state == ProcessingState.FAILED
            )
        )
        assert failed == 0
    except AssertionError:
        print(topology.report())
        raise
