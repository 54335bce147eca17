"""Most urgent first": customers waiting on us before internal tasks and notes."""

from __future__ import annotations

import importlib.util
from datetime import timedelta
from pathlib import Path

import sqlalchemy as sa
from flask_migrate import downgrade, upgrade

from app.conversations.inbox.services import InboxQuery, list_threads
from app.platform.database import utcnow
from app.platform.extensions import db
from app.platform.models import CommunicationThread, urgency
from app.platform.models.enums import ChannelType, Priority, ThreadStatus, ThreadType
from tests.support import factories
from tests.support.helpers import inbox_page_by_page


def _channels():
    return (
        factories.channel(ChannelType.WHATSAPP_BUSINESS),
        factories.channel(ChannelType.INTERNAL_COMMENT),
        factories.channel(ChannelType.INTERNAL_TASK),
    )


def test_an_overdue_internal_note_sits_below_escalated_customers(app, make_user):
    viewer = make_user("manager")
    whatsapp, notes, tasks = _channels()
    now = utcnow()
    note = factories.thread(
        notes, None, priority=Priority.LOW, response_due_at=now - timedelta(days=4)
    )
    task = factories.thread(
        None, None, thread_type=ThreadType.INTERNAL_TASK, response_due_at=now - timedelta(days=1)
    )
    escalated = factories.thread(
        whatsapp,
        factories.contact(),
        status=ThreadStatus.ESCALATED,
        priority=Priority.URGENT,
        response_due_at=now + timedelta(minutes=30),
    )
    customer_late = factories.thread(
        whatsapp, factories.contact(), response_due_at=now - timedelta(hours=1)
    )
    waiting_on_customer = factories.thread(
        whatsapp, factories.contact(), status=ThreadStatus.WAITING_CUSTOMER, minutes_ago=1
    )
    resolved = factories.thread(whatsapp, factories.contact(), status=ThreadStatus.RESOLVED)
    db.session.commit()

    order = [t.id for t in list_threads(viewer).threads]
    assert order == [
        customer_late.id,
        escalated.id,
        note.id,  # four days overdue, yet after every customer waiting on us
        task.id,
        waiting_on_customer.id,  # nothing owed to the customer: after our own to-dos
        resolved.id,
    ]
    assert (note.urgency_bucket, escalated.urgency_bucket) == (
        urgency.INTERNAL_DUE,
        urgency.CUSTOMER_WAITING,
    )


def test_a_customer_comes_before_an_internal_item_of_the_same_urgency(app, make_user):
    viewer = make_user("manager")
    whatsapp, notes, tasks = _channels()
    due = utcnow() + timedelta(hours=2)
    internal = factories.thread(tasks, None, response_due_at=due, priority=Priority.CRITICAL)
    customer = factories.thread(whatsapp, factories.contact(), response_due_at=due)
    db.session.commit()
    assert [t.id for t in list_threads(viewer).threads] == [customer.id, internal.id]


def test_the_overdue_tab_lists_late_customers_then_late_internal_items(app, make_user):
    viewer = make_user("manager")
    whatsapp, notes, _ = _channels()
    now = utcnow()
    note = factories.thread(notes, None, response_due_at=now - timedelta(days=4))
    customer = factories.thread(whatsapp, None, response_due_at=now - timedelta(minutes=5))
    factories.thread(whatsapp, None, response_due_at=now + timedelta(hours=1))  # not yet due
    factories.thread(notes, None, response_due_at=now + timedelta(hours=1))
    db.session.commit()
    overdue = list_threads(viewer, InboxQuery(filter_name="overdue")).threads
    assert [t.id for t in overdue] == [customer.id, note.id]


def test_urgency_pages_cross_the_buckets_without_repeats(app, make_user):
    viewer = make_user("manager")
    whatsapp, notes, _ = _channels()
    now = utcnow()
    ids = set()
    for i in range(10):
        channel = notes if i % 3 == 0 else whatsapp
        due = now + timedelta(minutes=7 * i - 30) if i % 4 else None
        ids.add(factories.thread(channel, None, response_due_at=due, minutes_ago=i).id)
    db.session.commit()
    seen = inbox_page_by_page(viewer, limit=3)
    assert len(seen) == len(set(seen)) == 10 and set(seen) == ids
    buckets = [db.session.get(CommunicationThread, i).urgency_bucket for i in seen]
    assert buckets == sorted(buckets)


def _migration_0013():
    path = next(Path("migrations/versions").glob("0013_*.py"))
    spec = importlib.util.spec_from_file_location("migration_0013", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_migration_0013_moves_internal_items_after_customers(app):
    whatsapp, notes, _ = _channels()
    now = utcnow()
    note = factories.thread(notes, None, response_due_at=now - timedelta(days=4))
    customer = factories.thread(whatsapp, None, response_due_at=now + timedelta(minutes=30))
    quiet = factories.thread(whatsapp, None)
    closed = factories.thread(whatsapp, None, status=ThreadStatus.CLOSED)
    ids = [note.id, customer.id, quiet.id, closed.id]
    db.session.commit()

    def buckets():
        # Read with Core: after the downgrade the table lacks columns the model has.
        db.session.expire_all()
        table = CommunicationThread.__table__
        rows = dict(db.session.execute(sa.select(table.c.id, table.c.urgency_bucket)).all())
        return [rows[i] for i in ids]

    downgrade(revision=_migration_0013().down_revision)
    try:
        assert buckets() == [0, 0, 1, 2]  # the old order: the note ranked with customers
    finally:
        db.session.remove()
        upgrade()
    assert buckets() == [
        urgency.INTERNAL_DUE,
        urgency.CUSTOMER_WAITING,
        urgency.NO_DEADLINE,
        urgency.CLOSED,
    ]


def test_at_the_same_deadline_the_higher_priority_comes_first(app, make_user):
    viewer = make_user("manager")
    whatsapp, _, _ = _channels()
    monday = (utcnow() + timedelta(days=1)).replace(microsecond=0)
    low, normal, critical, urgent = (
        factories.thread(whatsapp, factories.contact(), priority=p, response_due_at=monday)
        for p in (Priority.LOW, Priority.NORMAL, Priority.CRITICAL, Priority.URGENT)
    )
    earlier = factories.thread(
        whatsapp,
        factories.contact(),
        priority=Priority.LOW,
        response_due_at=monday - timedelta(minutes=1),
    )
    db.session.commit()

    order = [t.id for t in list_threads(viewer).threads]
    assert order == [earlier.id, critical.id, urgent.id, normal.id, low.id]

    normal.priority = Priority.CRITICAL  # an edit re-ranks it
    db.session.commit()
    order = [t.id for t in list_threads(viewer).threads]
    assert order.index(normal.id) < order.index(urgent.id)
