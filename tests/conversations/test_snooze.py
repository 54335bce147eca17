"""Snoozing a conversation: wake times, the open lists, waking, and the paused SLA clock."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from app.conversations.business_time.calendar import default_calendar, schedule_of
from app.conversations.core import InboundMessage, snooze, unsnooze, wake_due_snoozes
from app.conversations.inbox.counts import tab_counts
from app.conversations.inbox.services import list_threads
from app.conversations.sla.ladder import due_threads_query
from app.conversations.workspace.services import InvalidInput
from app.conversations.workspace.snooze_options import (
    next_working_day,
    snooze_thread,
    tomorrow_morning,
)
from app.platform.database import utcnow
from app.platform.extensions import db
from app.platform.models import CommunicationMessage, CommunicationThread, urgency
from app.platform.models.enums import ChannelType, MessageType, ThreadStatus
from app.platform.transactions import commit
from tests.support import factories
from tests.support.helpers import HX, receive

AMS = ZoneInfo("Europe/Amsterdam")


def ams(*args) -> datetime:
    return datetime(*args, tzinfo=AMS).astimezone(timezone.utc)


def snooze_lines(thread) -> list[str]:
    return list(
        db.session.scalars(
            sa.select(CommunicationMessage.message_content)
            .where(
                CommunicationMessage.thread_id == thread.id,
                CommunicationMessage.message_type == MessageType.SYSTEM_NOTIFICATION,
                CommunicationMessage.message_content.like("Snooze%"),
            )
            .order_by(CommunicationMessage.created_at)
        )
    )


# --- the choices ------------------------------------------------------------------


def test_next_working_day_skips_the_weekend_and_holidays(app):
    schedule = schedule_of(default_calendar())
    # Friday evening → Monday 08:00.
    assert next_working_day(schedule, ams(2026, 11, 20, 18, 0)) == ams(2026, 11, 23, 8, 0)
    # Thursday 24 December → Christmas and Boxing Day are holidays, then the weekend:
    # Monday 28 December.
    assert next_working_day(schedule, ams(2026, 12, 24, 10, 0)) == ams(2026, 12, 28, 8, 0)
    # Tuesday morning → Wednesday 08:00 (not "later today").
    assert next_working_day(schedule, ams(2026, 11, 24, 7, 0)) == ams(2026, 11, 25, 8, 0)


def test_tomorrow_morning_is_the_opening_time_of_tomorrow(app):
    schedule = schedule_of(default_calendar())
    assert tomorrow_morning(schedule, ams(2026, 11, 23, 22, 30)) == ams(2026, 11, 24, 8, 0)
    # Saturday has no hours: 08:00 all the same.
    assert tomorrow_morning(schedule, ams(2026, 11, 20, 12, 0)) == ams(2026, 11, 21, 8, 0)


def test_a_bad_choice_names_the_field(app, make_user):
    agent = make_user("agent")
    thread = factories.thread(factories.channel())
    with pytest.raises(InvalidInput) as refused:
        snooze_thread(thread, agent, "next_year")
    assert "snooze" in refused.value.fields
    with pytest.raises(InvalidInput) as refused:
        snooze_thread(thread, agent, "custom", "2020-01-01T08:00")
    assert "snooze_until" in refused.value.fields
    with pytest.raises(InvalidInput) as refused:
        snooze_thread(thread, agent, "custom", "soon")
    assert "snooze_until" in refused.value.fields
    thread.status = ThreadStatus.RESOLVED
    with pytest.raises(InvalidInput) as refused:
        snooze_thread(thread, agent, "until_reply")
    assert "snooze" in refused.value.fields


# --- the lists ----------------------------------------------------------------------


def test_snoozed_conversations_leave_the_open_lists_and_counts(app, make_user):
    agent = make_user("agent")
    channel = factories.channel()
    awake = factories.thread(channel, assigned_to_user_id=agent.id)
    asleep = factories.thread(channel, assigned_to_user_id=agent.id)
    snooze(asleep, agent, until=utcnow() + timedelta(hours=2))
    commit()
    assert asleep.urgency_bucket == urgency.SNOOZED
    for name in ("all", "mine", "whatsapp"):
        assert [t.id for t in list_threads(agent, filter_name=name).threads] == [awake.id]
    assert tab_counts(agent)["mine"] == 1
    assert [t.id for t in list_threads(agent, filter_name="snoozed").threads] == [asleep.id]


def test_the_snoozed_list_shows_the_wake_time_and_soonest_first(app, auth, client, make_user):
    agent = make_user("agent", email="agent@switchboard.test")
    channel = factories.channel()
    later = factories.thread(channel, thread_subject="Later")
    sooner = factories.thread(channel, thread_subject="Sooner")
    reply = factories.thread(channel, thread_subject="On reply")
    snooze(reply, agent, until=None)
    snooze(later, agent, until=ams(2099, 1, 2, 9, 0))
    snooze(sooner, agent, until=ams(2099, 1, 1, 9, 30))
    commit()
    assert [t.id for t in list_threads(agent, filter_name="snoozed").threads] == [
        sooner.id,
        later.id,
        reply.id,
    ]
    auth.login("agent@switchboard.test")
    page = client.get("/inbox?filter=snoozed").get_data(as_text=True)
    assert "Snoozed until 01-01-2099 09:30" in page
    assert "Snoozed until the customer replies" in page


# --- waking -------------------------------------------------------------------------


def test_the_job_wakes_what_is_due_once_with_one_line(app, make_user):
    agent = make_user("agent")
    channel = factories.channel()
    due = factories.thread(channel)
    not_yet = factories.thread(channel)
    snooze(due, agent, until=utcnow() + timedelta(minutes=5))
    snooze(not_yet, agent, until=utcnow() + timedelta(hours=5))
    commit()
    later = utcnow() + timedelta(minutes=6)
    assert wake_due_snoozes(later) == 1
    assert wake_due_snoozes(later) == 0
    db.session.expire_all()
    due, not_yet = (
        db.session.get(CommunicationThread, due.id),
        db.session.get(CommunicationThread, not_yet.id),
    )
    assert due.snoozed_at is None and due.urgency_bucket != urgency.SNOOZED
    assert not_yet.snoozed_at is not None
    assert snooze_lines(due) == ["Snooze ended"]
    assert due.id in [t.id for t in list_threads(agent).threads]


def test_a_customer_reply_wakes_it_at_once(app, make_user):
    agent = make_user("agent")
    channel = factories.channel(ChannelType.WHATSAPP_BUSINESS)
    customer = factories.contact()
    inbound = InboundMessage(external_message_id="wamid.1", content="Hallo?", received_at=utcnow())
    thread = db.session.get(CommunicationThread, receive(channel, customer, inbound).thread_id)
    snooze(thread, agent, until=None)
    commit()
    later = InboundMessage(external_message_id="wamid.2", content="Nog iets", received_at=utcnow())
    receive(channel, customer, later)
    commit()
    db.session.expire_all()
    thread = db.session.get(CommunicationThread, thread.id)
    assert thread.snoozed_at is None
    assert thread.urgency_bucket == urgency.CUSTOMER_WAITING
    assert snooze_lines(thread) == ["Snooze ended: the customer replied"]


def test_an_agent_reply_keeps_it_snoozed_and_a_person_can_wake_it(app, auth, client, make_user):
    agent = make_user("agent", email="agent@switchboard.test")
    thread = factories.thread(factories.channel(), contact_record=factories.contact())
    commit()
    auth.login("agent@switchboard.test")
    token = auth.csrf_token(f"/threads/{thread.id}")
    answer = client.post(
        f"/threads/{thread.id}/snooze",
        data={"csrf_token": token, "snooze": "next_working_day"},
        headers=HX,
    )
    assert answer.status_code == 200
    assert 'data-testid="snoozed-badge"' in answer.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(CommunicationThread, thread.id).snoozed_until is not None
    client.post(f"/threads/{thread.id}/note", data={"csrf_token": token, "content": "Gebeld"})
    db.session.expire_all()
    assert db.session.get(CommunicationThread, thread.id).snoozed_at is not None
    refused = client.post(
        f"/threads/{thread.id}/snooze",
        data={"csrf_token": token, "snooze": "custom", "snooze_until": "yesterday"},
        headers=HX,
    )
    assert refused.status_code == 422
    assert (
        client.post(
            f"/threads/{thread.id}/unsnooze", data={"csrf_token": token}, headers=HX
        ).status_code
        == 200
    )
    db.session.expire_all()
    thread = db.session.get(CommunicationThread, thread.id)
    assert thread.snoozed_at is None
    assert unsnooze(thread, agent) is False  # awake already: nothing happens twice


# --- the SLA clock ------------------------------------------------------------------


def test_the_sla_clock_pauses_while_snoozed_and_no_escalation_fires(app, make_user):
    agent = make_user("agent")
    channel = factories.channel(ChannelType.WHATSAPP_BUSINESS)  # 1 business hour
    customer = factories.contact()
    # Monday 09:00 the customer writes: due 10:00.
    inbound = InboundMessage(
        external_message_id="wamid.9", content="Storing", received_at=ams(2026, 11, 23, 9, 0)
    )
    thread = db.session.get(CommunicationThread, receive(channel, customer, inbound).thread_id)
    assert thread.response_due_at == ams(2026, 11, 23, 10, 0)
    # Snoozed at 09:20 until 11:00: 1 h 40 of business time asleep.
    snooze(thread, agent, until=ams(2026, 11, 23, 11, 0), at=ams(2026, 11, 23, 9, 20))
    commit()
    assert thread.response_due_at is None and thread.sla_next_check_at is None
    assert db.session.scalars(due_threads_query(ams(2026, 11, 23, 10, 30))).all() == []
    assert wake_due_snoozes(ams(2026, 11, 23, 11, 0)) == 1
    db.session.expire_all()
    thread = db.session.get(CommunicationThread, thread.id)
    # The 40 minutes left at 09:20 run from 11:00: due 11:40.
    assert thread.response_due_at == ams(2026, 11, 23, 11, 40)
    assert thread.sla_paused_seconds == 100 * 60


def test_snoozed_over_the_night_counts_only_business_hours(app, make_user):
    agent = make_user("agent")
    channel = factories.channel(ChannelType.WHATSAPP_BUSINESS)
    customer = factories.contact()
    inbound = InboundMessage(
        external_message_id="wamid.10", content="Storing", received_at=ams(2026, 11, 23, 16, 30)
    )
    thread = db.session.get(CommunicationThread, receive(channel, customer, inbound).thread_id)
    assert thread.response_due_at == ams(2026, 11, 24, 8, 30)  # 30 min today, 30 tomorrow
    snooze(thread, agent, until=ams(2026, 11, 24, 9, 0), at=ams(2026, 11, 23, 16, 45))
    commit()
    wake_due_snoozes(ams(2026, 11, 24, 9, 0))
    db.session.expire_all()
    thread = db.session.get(CommunicationThread, thread.id)
    # Asleep 16:45–17:00 and 08:00–09:00 of business time: 75 minutes; 45 minutes were left.
    assert thread.sla_paused_seconds == 75 * 60
    assert thread.response_due_at == ams(2026, 11, 24, 9, 45)


def test_setting_the_status_ends_the_snooze(app, auth, client, make_user):
    make_user("agent", email="agent@switchboard.test")
    thread = factories.thread(factories.channel())
    commit()
    auth.login("agent@switchboard.test")
    token = auth.csrf_token(f"/threads/{thread.id}")
    client.post(
        f"/threads/{thread.id}/snooze",
        data={"csrf_token": token, "snooze": "until_reply"},
        headers=HX,
    )
    db.session.expire_all()
    version = db.session.get(CommunicationThread, thread.id).lock_version
    client.post(
        f"/threads/{thread.id}/edit",
        data={"csrf_token": token, "lock_version": version, "status": "resolved"},
        headers=HX,
    )
    db.session.expire_all()
    thread = db.session.get(CommunicationThread, thread.id)
    assert thread.status == ThreadStatus.RESOLVED and thread.snoozed_at is None
    assert thread.urgency_bucket == urgency.CLOSED
