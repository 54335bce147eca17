"""The demo tells a true story: a normal morning after a normal month, orders and their
visits and tasks with a consistent history.

One seeded database serves every check (seeding is the slow part), so the
checks live in one test each for the two stories.
"""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime, time, timedelta

import sqlalchemy as sa

from app.analytics.definitions import customer_thread
from app.analytics.figures import compute
from app.analytics.filters import default_filter
from app.conversations.assignment.escalation import escalate_unanswered_threads
from app.conversations.business_time.calendar import calendar_for, is_holiday, schedule_of
from app.conversations.business_time.clock import STEP_ESCALATION, STEP_REMINDER
from app.conversations.sla.ladder import scan
from app.orders.core.status_engine import ALLOWED_TRANSITIONS
from app.orders.mobile.services import AMSTERDAM, local_today
from app.platform.database import utcnow
from app.platform.extensions import db
from app.platform.models import (
    CommunicationChannel,
    CommunicationMessage,
    CommunicationThread,
    CsatResponse,
    InternalTask,
    Order,
    OrderStatusTransition,
    Team,
    User,
    Visit,
)
from app.platform.models.enums import ChannelType, MessageType, OrderStatus, Role, ThreadStatus
from app.platform.models.sla import SlaAlert
from app.seed.demo import load_demo_data
from app.seed.demo_sla import NEAR_DEADLINE

Thread, Message, Channel = CommunicationThread, CommunicationMessage, CommunicationChannel
UNPLANNED = (OrderStatus.NEW, OrderStatus.QUOTE_SENT, OrderStatus.APPROVED, OrderStatus.ON_HOLD)
CUSTOMER_CHANNELS = (ChannelType.EMAIL_OUTLOOK, ChannelType.WHATSAPP_BUSINESS, ChannelType.SMS)


def _seed():
    load_demo_data()
    db.session.commit()


def test_demo_starts_like_a_normal_morning(app, clock):
    _seed()
    now = utcnow()
    waiting = list(
        db.session.scalars(
            sa.select(Thread).where(customer_thread(), Thread.response_due_at.is_not(None))
        )
    )
    assert len(waiting) > 20, "the demo has a queue of customers waiting on us"
    overdue = [t for t in waiting if t.response_due_at < now]
    assert len(overdue) == 1, [t.thread_subject for t in overdue]
    # In the customer-service queue, so the demo agent's "Te laat" shows it.
    desk = db.session.scalar(sa.select(Team.id).where(Team.slug == "customer-service"))
    assert overdue[0].assigned_team_id == desk
    # Near: past the 75 % reminder of their cycle, deadline still ahead.
    near = [t for t in waiting if t.response_due_at >= now and (t.sla_stage or 0) >= 1]
    assert 1 <= len(near) <= NEAR_DEADLINE + 2, len(near)
    # Every conversation a customer wrote in has an SLA clock, answered ones too.
    answered_without_clock = db.session.scalar(
        sa.select(sa.func.count()).where(
            customer_thread(),
            Thread.first_response_at.is_not(None),
            Thread.sla_started_at.is_(None),
            Thread.first_response_seconds.is_not(None),
        )
    )
    assert answered_without_clock == 0

    # A normal month missed a few: each answer that came after its deadline has the
    # ladder's escalation at that deadline, as the live clock leaves it.
    late = db.session.execute(
        sa.select(SlaAlert.due_at, Thread.first_response_at)
        .join(Thread, Thread.id == SlaAlert.thread_id)
        .where(SlaAlert.step == STEP_ESCALATION)
    ).all()
    assert len(late) >= 3 and all(answered > due for due, answered in late), late
    compliance = compute("sla", default_filter(now), now).total["compliance"]
    assert 80 <= compliance < 100, compliance

    # Deadlines spread out: a few soon, most comfortably later (not a wall of them).
    ahead = sorted(t.response_due_at - now for t in waiting if t.response_due_at >= now)
    assert sum(left <= timedelta(minutes=30) for left in ahead) <= 3, ahead
    assert sum(left > timedelta(minutes=75) for left in ahead) >= len(ahead) / 2, ahead

    _history_is_a_normal_month(now)

    # The first minute of `make run`: the ladder's scan and the escalation job.
    clock.advance(60)
    moved = escalate_unanswered_threads(utcnow())
    scan(utcnow())
    db.session.expire_all()
    ladder_escalations = db.session.scalar(
        sa.select(sa.func.count())
        .select_from(SlaAlert)
        .where(SlaAlert.step >= STEP_ESCALATION, SlaAlert.created_at >= now)
    )
    assert moved + ladder_escalations <= 1, (moved, ladder_escalations)
    # A quarter of an hour in: still (nearly) only the one overdue, and the 75 %
    # reminders come one at a time, not every minute.
    clock.advance(14 * 60)
    scan(utcnow())
    db.session.expire_all()
    late = db.session.scalar(
        sa.select(sa.func.count()).where(customer_thread(), Thread.response_due_at < utcnow())
    )
    reminders = db.session.scalar(
        sa.select(sa.func.count()).select_from(SlaAlert).where(SlaAlert.step == STEP_REMINDER)
    )
    assert late <= 2 and reminders <= 4, (late, reminders)


def _history_is_a_normal_month(now: datetime) -> None:
    """A month of messages on working days, ratings, even queues, varied customers."""
    today = local_today(now)
    schedule = schedule_of(calendar_for(None))
    per_day = Counter(
        moment.astimezone(AMSTERDAM).date()
        for moment in db.session.scalars(
            sa.select(Message.created_at).where(
                Message.message_type != MessageType.SYSTEM_NOTIFICATION,
                Message.created_at >= now - timedelta(days=30),
            )
        )
    )
    total = sum(per_day.values())
    days = [today - timedelta(days=n) for n in range(1, 29)]
    working = [d for d in days if d.weekday() < 5 and not is_holiday(schedule, d)]
    assert all(per_day[d] >= total * 0.01 for d in working), sorted(per_day.items())
    assert max(per_day.values()) <= total * 0.1, sorted(per_day.items())
    weekend = sum(n for d, n in per_day.items() if d.weekday() >= 5)
    assert weekend <= total * 0.05, sorted(per_day.items())
    calls = Counter(
        moment.astimezone(AMSTERDAM).date()
        for moment in db.session.scalars(
            sa.select(Message.created_at)
            .join(Channel, Channel.id == Message.channel_id)
            .where(Channel.channel_type == ChannelType.PHONE_CALL)
        )
    )
    assert sum(calls.values()) >= 10 and calls[today] <= sum(calls.values()) / 4, calls

    # Customers rated their resolved conversations, for several agents.
    ratings = db.session.execute(
        sa.select(CsatResponse.rating, CsatResponse.agent_id).where(
            CsatResponse.rating.is_not(None), CsatResponse.answered_at >= now - timedelta(days=30)
        )
    ).all()
    assert len(ratings) >= 20 and len({agent for _rating, agent in ratings}) >= 3
    assert {rating for rating, _agent in ratings} >= {3, 4, 5}

    # The customer-service agents' open queues are even, the demo agent's too.
    open_per_agent = dict(
        db.session.execute(
            sa.select(User.email, sa.func.count(Thread.id))
            .join(Thread, Thread.assigned_to_user_id == User.id)
            .join(Team, Team.id == User.team_id)
            .where(
                Team.slug == "customer-service",
                User.role == Role.AGENT,
                Thread.status.not_in((ThreadStatus.RESOLVED, ThreadStatus.CLOSED)),
            )
            .group_by(User.email)
        ).all()
    )
    assert "agent@switchboard.test" in open_per_agent and len(open_per_agent) >= 3
    assert max(open_per_agent.values()) <= 1.5 * min(open_per_agent.values()), open_per_agent

    # Two customers asking the same thing do not write the very same message.
    written = Counter(
        db.session.scalars(
            sa.select(Message.message_content)
            .join(Channel, Channel.id == Message.channel_id)
            .where(
                Message.message_type == MessageType.INCOMING,
                Channel.channel_type.in_(CUSTOMER_CHANNELS),
                sa.func.length(Message.message_content) >= 12,
            )
        )
    )
    assert max(written.values()) <= 5, written.most_common(3)


def test_demo_orders_visits_and_tasks_have_a_consistent_history(app):
    _seed()
    now = utcnow()
    orders = list(db.session.scalars(sa.select(Order)))
    statuses = {order.status for order in orders}
    assert set(OrderStatus) <= statuses, "an order at every stage"
    history: dict = {}
    for step in db.session.scalars(
        sa.select(OrderStatusTransition).order_by(OrderStatusTransition.created_at)
    ):
        history.setdefault(step.order_id, []).append(step)
    windows = {
        order_id: (start, end)
        for order_id, start, end in db.session.execute(
            sa.select(Visit.order_id, Visit.window_start, Visit.window_end)
        )
    }
    visits = set(windows)
    schedule = schedule_of(calendar_for(None))
    today = local_today(now)
    for order in orders:
        steps = history[order.id]
        label = f"{order.order_number} ({order.status.value})"
        assert steps[0].from_status is None and steps[0].to_status == OrderStatus.NEW, label
        for before, after in zip(steps, steps[1:], strict=False):
            assert after.from_status == before.to_status, label
            legal = ALLOWED_TRANSITIONS[OrderStatus(before.to_status)]
            assert OrderStatus(after.to_status) in legal, label
            assert after.created_at > before.created_at, label
        assert OrderStatus(steps[-1].to_status) == order.status, label
        assert steps[-1].created_at <= now, label
        assert order.created_at == steps[0].created_at, label
        if order.status in (OrderStatus.SCHEDULED, OrderStatus.IN_PROGRESS):
            assert order.scheduled_date and order.assigned_technician_id, label
            assert order.id in visits, label
        if order.status == OrderStatus.COMPLETED:
            assert order.completed_at == steps[-1].created_at, label
            assert order.assigned_technician_id and order.scheduled_date, label
        else:
            assert order.completed_at is None, label
        if order.scheduled_date and order.status == OrderStatus.SCHEDULED:
            scheduled = next(s for s in reversed(steps) if s.to_status == OrderStatus.SCHEDULED)
            assert scheduled.created_at <= now - timedelta(minutes=1), label
        if order.scheduled_date and order.assigned_technician_id:
            # On the planning board every visit, done ones too, has its time window.
            assert windows.get(order.id, (None, None))[0] is not None, label
        wish = (order.installation_preferences or {}).get("preferred_date")
        if wish:
            wished = date.fromisoformat(wish)
            assert wished.weekday() < 5 and not is_holiday(schedule, wished), label
            if order.status in UNPLANNED:
                assert wished > today, label

    # A task follows its conversation: made after it began, due after that.
    for task, started in db.session.execute(
        sa.select(InternalTask, Thread.created_at).join(Thread, Thread.id == InternalTask.thread_id)
    ):
        assert task.created_at >= started, task.task_title
        due = datetime.combine(task.due_date, time.fromisoformat(task.due_time or "23:59"))
        assert due.replace(tzinfo=AMSTERDAM) > started, task.task_title
        if task.completed_at is not None:
            assert task.completed_at >= task.created_at, task.task_title
