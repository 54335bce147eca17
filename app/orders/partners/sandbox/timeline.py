"""The sandbox's automatic timeline: approved → scheduled → in_progress → completed.

One RQ job per step, each queued by the one before it ``step_seconds`` later,
so the steps come in order. A step is a conditional move: it locks the order's
row and applies only if the order is still in the status the step expects.
Two workers running the same step, or two timelines asked for one order,
therefore make each move once; the chain that finds its step already made
stops there.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app

from app.orders.core.status_engine import ALLOWED_TRANSITIONS
from app.orders.partners.sandbox.moves import move_test_order
from app.platform.database import utcnow
from app.platform.extensions import db
from app.platform.jobs.queues import QUEUES, get_queue
from app.platform.models import Order
from app.platform.models.enums import OrderStatus
from app.platform.models.orders import LOCK_TO_CHANGE
from app.platform.transactions import commit

log = logging.getLogger(__name__)

S = OrderStatus
PATH: tuple[OrderStatus, ...] = (S.APPROVED, S.SCHEDULED, S.IN_PROGRESS, S.COMPLETED)
STEP_JOB = "app.orders.partners.sandbox.timeline.run_step"
QUEUE = "default"
# The slowest timeline a partner may ask for: an hour per step.
MAX_STEP_SECONDS = 3600


class NoTimeline(ValueError):
    """The order cannot follow the timeline from where it is to where it should go."""


@dataclass(frozen=True)
class PlannedStep:
    status: OrderStatus
    due_at: datetime

    def to_dict(self) -> dict:
        return {"status": self.status.value, "due_at": self.due_at.isoformat()}


def plan(order: Order, to: OrderStatus, step_seconds: float) -> list[PlannedStep]:
    """The moves from the order's status to ``to`` along :data:`PATH`, with their times."""
    if to not in PATH:
        raise NoTimeline(f"the timeline ends at one of {', '.join(s.value for s in PATH)}")
    target = PATH.index(to)
    if order.status in PATH:
        start = PATH.index(order.status) + 1
    elif PATH[0] in ALLOWED_TRANSITIONS[order.status]:
        start = 0  # new, quote_sent or on_hold: approved first
    else:
        raise NoTimeline(f"an order in {order.status.value} has no timeline ahead of it")
    if start > target:
        raise NoTimeline(f"the order is at {order.status.value}, already past {to.value}")
    now = utcnow()
    return [
        PlannedStep(status, now + timedelta(seconds=step_seconds * (number + 1)))
        for number, status in enumerate(PATH[start : target + 1])
    ]


def default_step_seconds() -> float:
    return float(current_app.config["SANDBOX_TIMELINE_STEP_SECONDS"])


def queue_first_step(
    order_id: uuid.UUID,
    from_status: OrderStatus,
    statuses: list[OrderStatus],
    step_seconds: float,
) -> None:
    """Queue the first step; each step queues the next. Call after committing."""
    if statuses:
        _queue_step(order_id, from_status, statuses, step_seconds)


def _queue_step(
    order_id: uuid.UUID,
    expected: OrderStatus,
    remaining: list[OrderStatus],
    step_seconds: float,
) -> None:
    spec = QUEUES[QUEUE]
    get_queue(QUEUE).enqueue_in(
        timedelta(seconds=step_seconds),
        STEP_JOB,
        str(order_id),
        expected.value,
        [status.value for status in remaining],
        step_seconds,
        job_timeout=spec.timeout,
        failure_ttl=7 * 24 * 3600,
    )


def run_step(order_id: str, expected: str, remaining: list[str], step_seconds: float) -> str:
    """Job: move the test order from ``expected`` to ``remaining[0]``, then queue the rest.

    Skips (and ends this chain) when the order is no longer in ``expected``:
    another worker or another timeline made the move, or the partner moved it.
    """
    order = db.session.get(Order, uuid.UUID(order_id), with_for_update=LOCK_TO_CHANGE)
    if order is None or not order.is_test or not remaining:
        db.session.rollback()
        return "gone"
    if order.status.value != expected:
        db.session.rollback()
        log.info("sandbox timeline of %s: already past %s, step skipped", order_id, expected)
        return "skipped"
    to_status = OrderStatus(remaining[0])
    if to_status not in ALLOWED_TRANSITIONS[order.status]:
        db.session.rollback()
        return "skipped"
    move_test_order(order, to_status, via="sandbox_timeline")
    commit()
    if len(remaining) > 1:
        _queue_step(order.id, to_status, [OrderStatus(s) for s in remaining[1:]], step_seconds)
    return to_status.value
