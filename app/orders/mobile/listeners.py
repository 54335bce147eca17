"""Pushes to the technician's phone, queued after the commit that made them true.

A customer's message on the conversation of a visit goes to the visit's
technician; a visit given to a technician, or moved to another day, goes to
that technician (:class:`app.orders.core.planning.VisitPlanned`), naming which of
the order's visits it is, so the job tells of that visit's day. The jobs
(:mod:`app.orders.mobile.push_jobs`) build the text and send it.
"""

from __future__ import annotations

from app.conversations.core.events import MessageCreated
from app.orders.core.planning import VisitPlanned
from app.orders.mobile.push import has_subscription, push_enabled
from app.platform.events import listens_to
from app.platform.extensions import db
from app.platform.jobs.queues import enqueue
from app.platform.models import CommunicationThread, Order


@listens_to(MessageCreated)
def push_customer_message(event: MessageCreated) -> None:
    """A customer's message on an order's conversation: push it to the order's technician."""
    if event.direction != "inbound" or not push_enabled():
        return
    thread = db.session.get(CommunicationThread, event.thread_id)
    order = db.session.get(Order, thread.order_id) if thread and thread.order_id else None
    if order is None or order.assigned_technician_id is None:
        return
    if has_subscription(order.assigned_technician_id):
        enqueue("app.orders.mobile.push_jobs.push_customer_message", str(event.message_id))


@listens_to(VisitPlanned)
def push_visit_planned(event: VisitPlanned) -> None:
    """A visit given to technicians or moved: push it to each technician on it; a
    technician taken off it (or the plan taken back) hears that it is off."""
    if not push_enabled():
        return
    crew = event.technician_ids or ((event.technician_id,) if event.technician_id else ())
    for technician_id in crew:
        if has_subscription(technician_id):
            enqueue(
                "app.orders.mobile.push_jobs.push_visit_planned",
                str(event.order_id),
                str(technician_id),
                _change_key(event, technician_id),
                event.visit_number,
            )
    if event.previous_date is None:
        return
    for technician_id in set(event.previous_technician_ids) - set(crew):
        if has_subscription(technician_id):
            enqueue(
                "app.orders.mobile.push_jobs.push_visit_withdrawn",
                str(event.order_id),
                str(technician_id),
                event.previous_date.isoformat(),
                _visit_key(
                    event, f"withdrawn:{event.previous_date.isoformat()}:v{event.plan_version}"
                ),
                event.visit_number,
            )


def _change_key(event: VisitPlanned, technician_id) -> str:
    # The lead's key as before; a colleague's says whether the visit is new to them.
    if technician_id == event.technician_id:
        return event.change_key
    day = event.scheduled_date.isoformat() if event.scheduled_date else "none"
    key = f"{'assigned' if event.is_new_for(technician_id) else 'moved'}:{day}"
    key = f"{key}:v{event.plan_version}" if event.plan_version is not None else key
    return _visit_key(event, key)


def _visit_key(event: VisitPlanned, key: str) -> str:
    # Each of an order's visits counts its own plan versions: a later visit's change
    # is told apart from the first's (as VisitPlanned.change_key does for the lead).
    return f"visit{event.visit_number}:{key}" if event.visit_number != 1 else key
