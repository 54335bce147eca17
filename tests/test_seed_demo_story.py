"""The demo tells a true story: a normal morning's SLA clocks, orders with a consistent history.

One seeded database serves every check (seeding is the slow part), so the
checks live in one test each for the two stories.
"""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from app.analytics.definitions import customer_thread
from app.assignment.escalation import escalate_unanswered_threads
from app.business_time.clock import STEP_ESCALATION
from app.database import utcnow
from app.extensions import db
from app.models import CommunicationThread, Order, OrderStatusTransition, Team, Visit
from app.models.enums import OrderStatus
from app.models.sla import SlaAlert
from app.orders.status_engine import ALLOWED_TRANSITIONS
from app.seed.demo import load_demo_data
from app.seed.demo_sla import NEAR_DEADLINE
from app.sla.ladder import scan

Thread = CommunicationThread


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

    # The first minute of `make run`: the ladder's scan and the escalation job.
    clock.advance(60)
    moved = escalate_unanswered_threads(utcnow())
    scan(utcnow())
    db.session.expire_all()
    ladder_escalations = db.session.scalar(
        sa.select(sa.func.count()).select_from(SlaAlert).where(SlaAlert.step >= STEP_ESCALATION)
    )
    assert moved + ladder_escalations <= 1, (moved, ladder_escalations)


def test_demo_orders_have_a_consistent_history(app):
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
    visits = {visit.order_id for visit in db.session.scalars(sa.select(Visit))}
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
