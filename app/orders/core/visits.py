"""A visit's own progress: another one added, one done while its order goes on.

The planning pages (:mod:`app.orders.planning.services`) and the technician's
phone (:mod:`app.orders.mobile`) both add a later visit to an order, and the phone
completes visits one by one. It is kept here, below both: the planning pages
use the phone's conversation helpers, so the phone may not import planning.

Nothing here commits; the caller commits with :func:`app.platform.transactions.commit`.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from flask_babel import gettext as _

from app.orders.deliveries.partner_callbacks import on_visit_event
from app.orders.deliveries.partner_events import VISIT_COMPLETED
from app.orders.deliveries.payloads import visit_details
from app.platform.database import utcnow
from app.platform.extensions import db
from app.platform.labels import label
from app.platform.models import AuditLog, Order, User, Visit, VisitTechnician
from app.platform.models.enums import ArticleType, OrderStatus
from app.platform.models.planning import VISIT_PURPOSES

# An order still to be done or under way can get a visit more; a completed,
# cancelled or held one cannot.
MAY_GET_VISITS = (OrderStatus.APPROVED, OrderStatus.SCHEDULED, OrderStatus.IN_PROGRESS)
# The audit entry of a visit the customer moved on their own page (the order's history
# shows it: no one of ours did it).
MOVED_BY_CUSTOMER = "VISIT_MOVED_BY_CUSTOMER"


class VisitNotAdded(Exception):
    """The order cannot get another visit; the message says why."""


def add_visit(order: Order, purpose: str, actor: User) -> Visit:
    """Give ``order`` one visit more, not yet planned: a second day, a return visit.

    The number is the next free one, taken under the order's row lock so two
    people adding at once get 2 and 3 rather than one failing on the unique
    (order, number). Raises VisitNotAdded when the order is done or not plannable.
    """
    if purpose not in VISIT_PURPOSES:
        raise ValueError(purpose)
    if order.status not in MAY_GET_VISITS:
        raise VisitNotAdded(
            _(
                "Only approved, scheduled or in-progress orders can get another visit;"
                " this order is %(status)s.",
                status=label(order.status, "order"),
            )
        )
    db.session.execute(sa.select(Order.id).where(Order.id == order.id).with_for_update())
    numbers = db.session.scalars(sa.select(Visit.number).where(Visit.order_id == order.id)).all()
    if not numbers:
        # The first visit's row, so the new one is number 2: on the order's day, with
        # its technician, for an order planned without one (a synced work order).
        first = Visit(order_id=order.id, number=1, version=1, scheduled_date=order.scheduled_date)
        if order.assigned_technician_id is not None:
            first.crew.append(
                VisitTechnician(technician_id=order.assigned_technician_id, is_lead=True)
            )
        db.session.add(first)
        numbers = [1]
    visit = Visit(order_id=order.id, number=max(numbers) + 1, purpose=purpose, version=1)
    visit.materials = default_materials(order) or None
    db.session.add(visit)
    db.session.flush()
    db.session.expire(order, ["visits"])
    db.session.add(
        AuditLog(
            table_name="orders",
            record_id=order.id,
            action="VISIT_ADDED",
            changed_by_user_id=actor.id,
            changes={"visit": visit.number, "purpose": purpose},
        )
    )
    return visit


def default_materials(order: Order) -> str:
    """What to bring, from the order's lines: chargers and accessories, one a line."""
    lines = []
    for line in order.line_items:
        article = line.article
        if article is not None and article.article_type not in (
            ArticleType.WALLBOX,
            ArticleType.ACCESSORY,
        ):
            continue
        lines.append(f"{line.quantity}× {article.name if article else line.description}")
    return "\n".join(lines)


def next_visit(order: Order, visit: Visit) -> Visit | None:
    """The order's first visit after ``visit`` not yet completed, if any."""
    return next(
        (
            later
            for later in order.visits
            if later.number > visit.number and later.completed_at is None
        ),
        None,
    )


def finish_visit(order: Order, visit: Visit, now: datetime | None = None) -> Visit | None:
    """Mark ``visit`` done; the order's next visit not done, or None when it was the last.

    With a next one the order goes on (its status stays): its day and technician
    become the next visit's (none while that one is not planned), and the partner
    hears ``visit_completed``. After the last one the caller completes the order
    through the status engine, whose callback tells the partner.
    """
    now = now or utcnow()
    visit.started_at = visit.started_at or now
    visit.completed_at = now
    following = next_visit(order, visit)
    if following is None:
        return None
    # Set directly, without a VisitPlanned: the next visit's technicians and
    # calendars heard of it when it was planned; only the order's mirror moves.
    order.scheduled_date = following.scheduled_date
    order.assigned_technician_id = following.technician_ids[0] if following.crew else None
    db.session.flush()
    record_visit_completed(order, visit)
    return following


def record_visit_completed(order: Order, visit: Visit) -> None:
    """One visit of several done, the order goes on: the partner's ``visit_completed``."""
    details = visit_details(order, visit) or {
        "number": visit.number,
        "purpose": visit.purpose,
        "date": None,
        "window_start": None,
        "window_end": None,
    }
    on_visit_event(order, VISIT_COMPLETED, details, "Visit completed")


def on_status_change(order: Order, transition) -> None:
    """Status hook: an order completed by any way (the desk, the API, the phone's last
    visit) has no visit left to make, so none stays open on a board, list or phone."""
    if transition.to_status != OrderStatus.COMPLETED.value:
        return
    for visit in db.session.scalars(
        sa.select(Visit).where(Visit.order_id == order.id, Visit.completed_at.is_(None))
    ):
        visit.completed_at = transition.created_at
    db.session.expire(order, ["visits"])
