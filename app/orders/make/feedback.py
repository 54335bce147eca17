"""Make.com ``customer-feedback``: the score after a visit, and a follow-up when it is low.

A low score (2 or less of 5, 6 or less of 10) opens a complaint thread with
high priority for the customer, linked to the order and to the feedback, with
the customer's words as its first line, so someone calls them back.
"""

from __future__ import annotations

import logging
from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from app.conversations.core import record_status_line
from app.conversations.workspace.creation import open_thread
from app.orders.make.orders import order_for
from app.orders.make.schemas import CustomerFeedback as FeedbackIn
from app.platform.database import utcnow
from app.platform.extensions import db
from app.platform.models import CommunicationThread, CustomerFeedback, Order
from app.platform.models.enums import Priority, ThreadType
from app.platform.system_texts import text

log = logging.getLogger(__name__)

# A complaint is answered within the working day.
FOLLOW_UP_WITHIN = timedelta(hours=4)


def customer_feedback(body: FeedbackIn, event) -> CustomerFeedback:
    """Record the score once per response; open a complaint thread when it is low."""
    order = order_for(body)
    # The survey's own id when it has one; otherwise this event is the response.
    reference = (body.feedback_id or f"make:{event.dedupe_key}")[:120]
    existing = _by_reference(reference)
    if existing is not None:
        log.info("feedback %s already recorded", reference)
        return existing
    feedback = CustomerFeedback(
        order_id=order.id,
        contact_id=order.end_customer_contact_id,
        score=body.score,
        comment=body.comment,
        external_reference=reference,
        raw=body.model_dump(mode="json", exclude_none=True),
    )
    try:
        with db.session.begin_nested():
            db.session.add(feedback)
    except IntegrityError:
        existing = _by_reference(reference)
        if existing is None:
            raise
        return existing
    if body.is_low:
        feedback.thread_id = open_follow_up(order, body).id
    return feedback


def open_follow_up(order: Order, body: FeedbackIn) -> CommunicationThread:
    """A high-priority complaint thread for the customer, about this order."""
    thread = open_thread(
        None,  # opened by the scenario, not a person
        subject=f"Lage beoordeling {body.score}/{body.scale} voor {order.order_number}",
        contact_id=order.end_customer_contact_id,
        thread_type=ThreadType.COMPLAINT.value,
        priority=Priority.HIGH.value,
        order_id=order.id,
        tags=["feedback", "make"],
    )
    now = utcnow()
    if body.comment:
        line = text("feedback.score", score=body.score, scale=body.scale, comment=body.comment)
    else:
        line = text("feedback.score_no_comment", score=body.score, scale=body.scale)
    record_status_line(
        thread,
        line,
        sender_contact_id=order.end_customer_contact_id,
        sender_external={"name": "Make.com customer-feedback"},
        at=now,
        searchable=True,
        preview=True,
    )
    thread.customer_organization_id = order.customer_organization_id
    thread.partner_organization_id = order.partner_organization_id
    thread.response_due_at = now + FOLLOW_UP_WITHIN
    db.session.flush()
    return thread


def _by_reference(reference: str) -> CustomerFeedback | None:
    return db.session.scalar(
        sa.select(CustomerFeedback).where(CustomerFeedback.external_reference == reference)
    )
