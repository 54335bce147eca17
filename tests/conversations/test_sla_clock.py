"""SLA policies and a thread's clock through the real inbound, reply and edit paths."""

from __future__ import annotations

from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from app.conversations.business_time import clock
from app.conversations.business_time.calendar import (
    add_business_seconds,
    business_seconds_between,
    default_calendar,
)
from app.conversations.business_time.policies import (
    DEFAULT_POLICIES,
    ensure_default_policies,
    target_seconds,
)
from app.conversations.core import InboundMessage
from app.conversations.workspace.editing import update_thread
from app.conversations.workspace.services import compose_reply
from app.platform.extensions import db
from app.platform.models import CommunicationThread, urgency
from app.platform.models.enums import ChannelType, Priority, ThreadStatus, ThreadType
from app.platform.models.sla import SlaPolicy
from tests.support import factories
from tests.support.helpers import receive

AMS = ZoneInfo("Europe/Amsterdam")
MINUTE, HOUR = 60, 3600


def ams(*args) -> datetime:
    return datetime(*args, tzinfo=AMS).astimezone(timezone.utc)


def _inbound(external_id: str, at: datetime, text: str = "Mijn laadpaal doet het niet"):
    return InboundMessage(
        external_message_id=external_id, content=text, received_at=at, subject="Storing"
    )


# --- policies ---------------------------------------------------------------------


def test_defaults_are_seeded_once_and_used_before_that(app):
    channel = factories.channel(ChannelType.WHATSAPP_BUSINESS)
    thread = factories.thread(channel)
    assert target_seconds(thread) == 60 * MINUTE  # from the in-memory defaults
    assert ensure_default_policies() is True
    assert ensure_default_policies() is False
    stored = db.session.scalars(sa.select(SlaPolicy)).all()
    assert len(stored) == len(DEFAULT_POLICIES)
    minutes = {(p.channel_type, p.priority, p.escalated): p.response_minutes for p in stored}
    assert minutes[("email_outlook", None, False)] == 240
    assert minutes[("whatsapp_business", None, False)] == 60
    assert minutes[("sms", None, False)] == 60
    assert minutes[(None, None, True)] == 30
    assert minutes[("internal_task", "urgent", False)] == 60
    assert minutes[("internal_task", "low", False)] == 960


def test_the_most_specific_policy_wins(app):
    db.session.add_all(
        [
            SlaPolicy(name="Mail", channel_type="email_outlook", response_minutes=240),
            SlaPolicy(
                name="Mail urgent",
                channel_type="email_outlook",
                priority="urgent",
                response_minutes=120,
            ),
            SlaPolicy(name="Any urgent", priority="urgent", response_minutes=90),
            SlaPolicy(name="Everything else", response_minutes=500),
            SlaPolicy(name="Escalated", escalated=True, response_minutes=30),
            SlaPolicy(name="Inactive", channel_type="sms", response_minutes=1, is_active=False),
        ]
    )
    db.session.flush()
    mail = factories.channel(ChannelType.EMAIL_OUTLOOK)
    whatsapp = factories.channel(ChannelType.WHATSAPP_BUSINESS)
    sms = factories.channel(ChannelType.SMS)

    def target(channel, priority, escalated=False):
        return target_seconds(factories.thread(channel, priority=priority), escalated=escalated)

    assert target(mail, Priority.URGENT) == 120 * MINUTE
    assert target(mail, Priority.NORMAL) == 240 * MINUTE
    assert target(whatsapp, Priority.URGENT) == 90 * MINUTE
    assert target(sms, Priority.LOW) == 500 * MINUTE
    assert target(mail, Priority.URGENT, escalated=True) == 30 * MINUTE


def test_internal_tasks_are_measured_by_priority(app):
    ensure_default_policies()
    for priority, minutes in (
        (Priority.URGENT, 60),
        (Priority.HIGH, 240),
        (Priority.NORMAL, 480),
        (Priority.LOW, 960),
    ):
        task_thread = factories.thread(
            None, thread_type=ThreadType.INTERNAL_TASK, priority=priority
        )
        assert target_seconds(task_thread) == minutes * MINUTE


# --- the lifecycle --------------------------------------------------------------------


def test_an_inbound_email_starts_a_cycle_in_business_time(app):
    channel = factories.channel(ChannelType.EMAIL_OUTLOOK)
    contact = factories.contact()
    friday = ams(2030, 6, 14, 16, 30)
    message = receive(channel, contact, _inbound("m1", friday))
    thread = message.thread
    assert thread.sla_cycle == 1 and thread.sla_stage == 0
    assert thread.sla_started_at == friday
    assert thread.sla_target_seconds == 4 * HOUR
    assert thread.response_due_at == ams(2030, 6, 17, 11, 30)
    assert thread.sla_next_check_at == ams(2030, 6, 17, 10, 30)  # 75 % = 3 business hours
    db.session.commit()
    assert thread.urgency_bucket == urgency.CUSTOMER_WAITING  # ranked by its deadline

    # A second message while the first waits for an answer does not restart the clock.
    receive(channel, contact, _inbound("m2", ams(2030, 6, 17, 9, 0), "Nog iets"))
    assert thread.sla_cycle == 1
    assert thread.response_due_at == ams(2030, 6, 17, 11, 30)


def test_a_reply_ends_the_cycle_and_records_the_first_response(app, make_user):
    agent = make_user("agent")
    channel = factories.channel(ChannelType.EMAIL_OUTLOOK)
    contact = factories.contact()
    started = ams(2026, 3, 2, 9, 0)  # in the past: the reply is written "now"
    thread = receive(channel, contact, _inbound("e1", started)).thread
    compose_reply(thread, agent, content="We kijken ernaar")
    assert thread.response_due_at is None and thread.sla_next_check_at is None
    assert thread.first_response_at is not None
    expected = business_seconds_between(default_calendar(), started, thread.first_response_at)
    assert thread.first_response_seconds == expected
    first = thread.first_response_at
    db.session.commit()

    # The customer writes again: a new cycle; a later reply keeps the first answer's time.
    receive(channel, contact, _inbound("e2", ams(2026, 3, 3, 9, 0)))
    assert thread.sla_cycle == 2 and thread.response_due_at is not None
    compose_reply(thread, agent, content="Monteur komt morgen")
    assert thread.first_response_at == first and thread.response_due_at is None


def test_first_response_seconds_leave_out_the_pause(app):
    thread = factories.thread(factories.channel(ChannelType.EMAIL_OUTLOOK))
    clock.start_cycle(thread, ams(2030, 6, 17, 9, 0))
    clock.pause(thread, ams(2030, 6, 17, 10, 0))
    clock.resume(thread, ams(2030, 6, 17, 14, 0))
    clock.record_first_response(thread, ams(2030, 6, 17, 15, 0))
    assert thread.first_response_seconds == 2 * HOUR  # 9–10 and 14–15


def test_waiting_customer_pauses_and_the_customer_writing_resumes(app, make_user):
    manager = make_user("manager")
    channel = factories.channel(ChannelType.EMAIL_OUTLOOK)
    contact = factories.contact()
    thread = receive(channel, contact, _inbound("e1", ams(2030, 6, 17, 9, 0))).thread
    db.session.commit()
    update_thread(
        thread,
        manager,
        expected_version=thread.lock_version,
        changes={"status": "waiting_customer"},
    )
    assert thread.sla_paused_at is not None
    assert thread.response_due_at is None and thread.sla_next_check_at is None
    paused_at = thread.sla_paused_at
    db.session.commit()
    assert thread.urgency_bucket == urgency.NO_DEADLINE  # none while we wait on them

    # Resuming is tested with a fixed clock: take the pause back to a known moment.
    thread.sla_paused_at = ams(2030, 6, 17, 10, 0)
    receive(channel, contact, _inbound("e2", ams(2030, 6, 17, 11, 0), "Hier is de foto"))
    assert thread.status == ThreadStatus.OPEN
    assert thread.sla_cycle == 1  # the same question, still unanswered
    assert thread.sla_paused_seconds == HOUR
    assert thread.response_due_at == ams(2030, 6, 17, 14, 0)
    assert paused_at is not None


def test_resolving_records_the_resolution_time_and_stops_the_clock(app, make_user):
    thread = factories.thread(factories.channel(ChannelType.EMAIL_OUTLOOK))
    thread.created_at = ams(2030, 6, 17, 9, 0)
    clock.start_cycle(thread, ams(2030, 6, 17, 9, 0))
    thread.status = ThreadStatus.RESOLVED
    clock.status_changed(thread, ThreadStatus.OPEN, ams(2030, 6, 18, 10, 0))
    assert thread.resolved_at == ams(2030, 6, 18, 10, 0)
    assert thread.resolution_seconds == 10 * HOUR  # 8 on Monday, 2 on Tuesday
    assert thread.response_due_at is None and thread.sla_next_check_at is None

    thread.status = ThreadStatus.OPEN
    clock.status_changed(thread, ThreadStatus.RESOLVED, ams(2030, 6, 18, 11, 0))
    assert thread.resolved_at is None and thread.resolution_seconds is None


def test_resolving_through_the_edit_path(app, make_user):
    manager = make_user("manager")
    thread = factories.thread(factories.channel(ChannelType.EMAIL_OUTLOOK))
    clock.start_cycle(thread, ams(2026, 3, 2, 9, 0))
    db.session.commit()
    update_thread(
        thread, manager, expected_version=thread.lock_version, changes={"status": "closed"}
    )
    assert thread.resolved_at is not None and thread.resolution_seconds is not None
    assert thread.sla_next_check_at is None


def test_escalating_starts_a_thirty_minute_cycle(app, make_user):
    ensure_default_policies()
    thread = factories.thread(factories.channel(ChannelType.EMAIL_OUTLOOK))
    clock.start_cycle(thread, ams(2030, 6, 17, 9, 0))
    thread.status = ThreadStatus.ESCALATED
    clock.status_changed(thread, ThreadStatus.OPEN, ams(2030, 6, 17, 16, 50))
    assert thread.sla_cycle == 2 and thread.sla_stage == 0
    assert thread.sla_target_seconds == 30 * MINUTE
    # Ten minutes before closing, twenty the next morning: business minutes.
    assert thread.response_due_at == ams(2030, 6, 18, 8, 20)

    manager = make_user("manager")
    other = factories.thread(factories.channel(ChannelType.WHATSAPP_BUSINESS))
    db.session.commit()
    update_thread(
        other, manager, expected_version=other.lock_version, changes={"status": "escalated"}
    )
    assert other.sla_cycle == 1 and other.sla_target_seconds == 30 * MINUTE
    assert other.response_due_at == add_business_seconds(
        default_calendar(), other.sla_started_at, 30 * MINUTE
    )
    db.session.commit()
    assert db.session.get(CommunicationThread, other.id).sla_next_check_at is not None
