"""``escalation_after_hours`` → ``escalation_to``: unanswered threads move once."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa
from rq.utils import import_attribute

from app.conversations.assignment.escalation import MARKER_EVENT, escalate_unanswered_threads
from app.platform.database import utcnow
from app.platform.extensions import db
from app.platform.features import collect
from app.platform.models import CommunicationMessage, CommunicationThread, Notification
from app.platform.models.enums import ChannelType, MessageType, ThreadStatus, ThreadType
from app.platform.models.sla import BusinessCalendar
from tests.conftest import TEST_DATABASE_URL, opened
from tests.support import factories
from tests.support.helpers import race, raised

ALWAYS_OPEN = {
    day: [["00:00", "24:00"]] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
}
OFFICE_HOURS = {
    **{day: [["08:00", "17:00"]] for day in ("mon", "tue", "wed", "thu", "fri")},
    "sat": [],
    "sun": [],
}


@pytest.fixture
def app(make_app):
    """No embedded worker: its own periodic scan must not move threads under the test."""
    with opened(make_app(start_embedded_worker=False)) as app:
        yield app


def _setup(make_user, weekly_hours=ALWAYS_OPEN, escalation_to=None):
    desk = factories.team("Klantenservice")
    management = factories.team("Management")
    agent = make_user("agent", team_id=desk.id)
    manager = make_user("manager", email="manager@switchboard.test", team_id=management.id)
    calendar = BusinessCalendar(name="Test hours", weekly_hours=weekly_hours, holiday_country=None)
    db.session.add(calendar)
    db.session.flush()
    channel = factories.channel(
        ChannelType.EMAIL_OUTLOOK,
        business_calendar_id=calendar.id,
        auto_assignment_rules={
            "complaint": {
                "default_assignee": desk.slug,
                "escalation_after_hours": 2,
                "escalation_to": escalation_to or management.slug,
            }
        },
    )
    db.session.commit()
    return channel, agent, manager, management


def _waiting_thread(channel, agent, since: datetime, **fields):
    fields.setdefault("thread_type", ThreadType.COMPLAINT)
    fields.setdefault("response_due_at", since + timedelta(hours=4))
    thread = factories.thread(
        channel,
        assigned_to_user_id=agent.id,
        assigned_team_id=agent.team_id,
        assignment_reason="Complaint → Klantenservice; least loaded",
        sla_started_at=since,
        **fields,
    )
    thread.created_at = since
    db.session.commit()
    return thread


def _markers(thread) -> list[CommunicationMessage]:
    return list(
        db.session.scalars(
            sa.select(CommunicationMessage).where(
                CommunicationMessage.thread_id == thread.id,
                CommunicationMessage.message_type == MessageType.SYSTEM_NOTIFICATION,
            )
        )
    )


def test_escalation_is_a_periodic_job():
    [job] = [job for job in collect().periodic_jobs if job.name == "assignment-escalation"]
    assert import_attribute(job.func_path) is escalate_unanswered_threads
    assert job.every_seconds <= 60


def test_an_unanswered_thread_moves_to_the_escalation_team_once(app, make_user):
    channel, agent, manager, management = _setup(make_user)
    now = utcnow()
    late = _waiting_thread(channel, agent, now - timedelta(hours=2, minutes=1))
    early = _waiting_thread(channel, agent, now - timedelta(hours=1, minutes=50))
    answered = _waiting_thread(channel, agent, now - timedelta(hours=5), response_due_at=None)
    paused = _waiting_thread(channel, agent, now - timedelta(hours=5))
    paused.status = ThreadStatus.WAITING_CUSTOMER
    other_type = _waiting_thread(
        channel, agent, now - timedelta(hours=5), thread_type=ThreadType.SALES_INQUIRY
    )
    db.session.commit()

    assert escalate_unanswered_threads(now) == 1
    db.session.expire_all()
    late = db.session.get(CommunicationThread, late.id)
    assert late.assigned_to_user_id == manager.id
    assert late.assigned_team_id == management.id
    assert late.assignment_reason == (
        "Escalated: unanswered for 2 business hours → Management; "
        "Test manager, least loaded (0 open of 25)"
    )
    [line] = _markers(late)
    assert line.message_content == late.assignment_reason
    assert line.extra["event"] == MARKER_EVENT
    assert [part["key"] for part in line.extra["system_text"]] == [
        "routing.escalated_to_team",
        "routing.least_loaded",
    ]
    [notification] = db.session.scalars(sa.select(Notification)).all()
    assert (notification.user_id, notification.link) == (manager.id, f"/threads/{late.id}")
    for untouched in (early, answered, paused, other_type):
        assert db.session.get(CommunicationThread, untouched.id).assigned_to_user_id == agent.id

    # Once: handed back to the agent and still unanswered, it stays there.
    late.assigned_to_user_id = agent.id
    db.session.commit()
    assert escalate_unanswered_threads(now + timedelta(hours=3)) == 1  # only `early` now
    db.session.expire_all()
    assert db.session.get(CommunicationThread, late.id).assigned_to_user_id == agent.id
    assert len(_markers(late)) == 1
    assert db.session.get(CommunicationThread, early.id).assigned_to_user_id == manager.id


def test_hours_are_business_hours_of_the_channel_calendar(app, make_user):
    channel, agent, manager, _ = _setup(make_user, weekly_hours=OFFICE_HOURS)
    # Friday 9 January 2026, 16:30 in Amsterdam (UTC+1).
    friday = datetime(2026, 1, 9, 15, 30, tzinfo=timezone.utc)
    thread = _waiting_thread(channel, agent, friday)
    # Monday 08:45: 64 hours later, but only 1¼ business hours.
    monday_morning = datetime(2026, 1, 12, 7, 45, tzinfo=timezone.utc)
    assert escalate_unanswered_threads(monday_morning) == 0
    # Monday 09:31: half an hour on Friday plus 1.5 hours on Monday.
    assert escalate_unanswered_threads(monday_morning + timedelta(minutes=46)) == 1
    db.session.expire_all()
    assert db.session.get(CommunicationThread, thread.id).assigned_to_user_id == manager.id


def test_escalation_to_a_named_person(app, make_user):
    channel, agent, manager, management = _setup(
        make_user, escalation_to="manager@switchboard.test"
    )
    thread = _waiting_thread(channel, agent, utcnow() - timedelta(hours=3))
    assert escalate_unanswered_threads() == 1
    db.session.expire_all()
    thread = db.session.get(CommunicationThread, thread.id)
    assert thread.assigned_to_user_id == manager.id
    assert thread.assigned_team_id == management.id
    assert thread.assignment_reason == (
        "Escalated: unanswered for 2 business hours → Test manager, named in the rules"
    )


def test_without_sla_clock_the_wait_starts_at_the_unanswered_message(app, make_user):
    channel, agent, manager, _ = _setup(make_user)
    now = utcnow()
    thread = _waiting_thread(channel, agent, now - timedelta(days=2))
    thread.sla_started_at = None
    factories.message(thread, "Eerste vraag", created_at=now - timedelta(days=2))
    factories.message(
        thread, "Antwoord", message_type=MessageType.OUTGOING, created_at=now - timedelta(days=1)
    )
    factories.message(thread, "Nog een vraag", created_at=now - timedelta(minutes=30))
    db.session.commit()
    assert escalate_unanswered_threads(now) == 0
    assert escalate_unanswered_threads(now + timedelta(hours=2)) == 1


@pytest.mark.skipif(not TEST_DATABASE_URL, reason="needs PostgreSQL's row locks (CI runs it)")
def test_two_workers_scanning_at_once_move_each_thread_once(app, make_user):
    channel, agent, manager, _ = _setup(make_user)
    now = utcnow()
    threads = [_waiting_thread(channel, agent, now - timedelta(hours=3)) for _ in range(30)]
    moved = race(app, lambda _index: escalate_unanswered_threads(now))
    assert raised(moved) == []
    assert sum(moved) == 30
    db.session.expire_all()
    for thread in threads:
        assert len(_markers(thread)) == 1
    # Capacity holds under concurrency too: the manager carries at most 25.
    owners = Counter(db.session.get(CommunicationThread, t.id).assigned_to_user_id for t in threads)
    assert owners == {manager.id: 25, None: 5}
    notified = db.session.scalars(sa.select(Notification.user_id)).all()
    assert notified == [manager.id] * 25
