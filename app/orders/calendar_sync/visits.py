"""Which visits stand in which technician's calendar: the calendar rows of one order.

An order may have several visits (a second installation day, a return for a
missing part), each on its own day with its own crew, so a row is one visit in
one technician's calendar: one per (order, visit number, technician), each with
its own id, and so its own iCalendar UID and Graph ``transactionId``.

:func:`reconcile_visit` compares all the order's planned visits
(:mod:`app.orders.calendar_sync.visit_times`) with all its calendar rows and brings
the rows in line: a visit's new technician gets a row, a moved or changed visit
raises its own rows' sequence, a technician taken off a visit (or a visit's plan
taken back, or the order cancelled) gets that visit's row cancelled. A row of
another visit is compared with that visit's plan, so it stays as it was.

It reconciles the whole order, not the one visit a change names: the order's
lock already serialises its writers, a cancelled order must take every visit
out of the calendars anyway, and the sweep that finds lagging calendars works
per order. An order has a handful of visits, so comparing all of them costs
nothing, and a job queued for one visit's change can never leave another
visit's rows behind (a missed event, a visit renumbered by nobody). The rows
are what the iCalendar feed shows and what the Outlook sync
(:mod:`app.orders.calendar_sync.outlook`) writes to Graph.
"""

from __future__ import annotations

import uuid

import sqlalchemy as sa
from flask_babel import force_locale
from flask_babel import gettext as _

from app.conversations.message_templates.visit_moment import parse_time_window, window_text_of
from app.orders.calendar_sync.visit_times import PlannedVisit, VisitSlot, planned_visits
from app.platform.database import hold_advisory_lock, utcnow
from app.platform.extensions import db
from app.platform.models import CalendarEvent, Order
from app.platform.models.enums import OrderStatus

# Orders whose visit no longer belongs in a calendar.
GONE = (OrderStatus.CANCELLED,)


def order_lock(order_id: uuid.UUID) -> None:
    """Take turns per order: one writer of its calendar rows and events at a time."""
    hold_advisory_lock(db.session, f"calendar:{order_id}")


def reconcile_visit(order_id: uuid.UUID) -> list[CalendarEvent]:
    """Bring the calendar rows of all the order's visits in line with their plans;
    returns all its rows.

    Holds the order's lock until the caller commits.
    """
    order_lock(order_id)
    order = db.session.get(Order, order_id)
    rows = {
        (row.visit_number, row.technician_id): row
        for row in db.session.scalars(
            sa.select(CalendarEvent).where(CalendarEvent.order_id == order_id)
        )
    }
    planned = planned_visits(order) if order is not None and order.status not in GONE else []
    wanted = set()
    for visit in planned:
        details = visit_details(order, visit)
        for technician_id in visit.technician_ids:
            key = (visit.number, technician_id)
            wanted.add(key)
            row = rows.get(key)
            if row is None:
                row = CalendarEvent(
                    order_id=order_id,
                    visit_number=visit.number,
                    technician_id=technician_id,
                    transaction_id=uuid.uuid4().hex,
                    sequence=0,
                    details={},
                )
                db.session.add(row)
                rows[key] = row
                _place(row, visit.slot, details)
            elif row.cancelled_at is not None or _differs(row, visit.slot, details):
                row.cancelled_at = None
                row.sequence += 1
                _place(row, visit.slot, details)
    now = utcnow()
    for key, row in rows.items():
        if key not in wanted and row.cancelled_at is None:
            row.cancelled_at = now
            row.sequence += 1
    db.session.flush()
    return list(rows.values())


def _place(row: CalendarEvent, slot: VisitSlot, details: dict) -> None:
    row.starts_at, row.ends_at, row.all_day = slot.start, slot.end, slot.all_day
    row.details = details


def _differs(row: CalendarEvent, slot: VisitSlot, details: dict) -> bool:
    placed = (row.starts_at, row.ends_at, row.all_day, row.details)
    return placed != (slot.start, slot.end, slot.all_day, details)


def visit_details(order: Order, planned: PlannedVisit | None = None) -> dict:
    """Subject, location and notes of the visit (without ``planned``: the order's
    current one), in Dutch as the technicians read them. A later visit says which
    it is in its subject, and brings what its own plan lists."""
    visit = planned.visit if planned is not None else None
    number = planned.number if planned is not None else 1
    customer = order.end_customer.display_name if order.end_customer else None
    address = order.installation_address.one_line() if order.installation_address else ""
    with force_locale("nl"):
        lines = []
        window = parse_time_window(window_text_of(order, visit))
        if window is not None:
            lines.append(_("Time window: %(window)s", window=window.raw))
        if number > 1 and visit is not None and visit.materials:
            materials = [line.strip() for line in visit.materials.splitlines() if line.strip()]
        else:
            materials = [
                f"{item.quantity}× {item.article.name if item.article else item.description}"
                for item in order.line_items
            ]
        if materials:
            lines.append(_("Bring: %(materials)s", materials=", ".join(materials)))
        if order.notes:
            lines.append(_("Notes: %(notes)s", notes=order.notes))
        if number > 1:
            subject = _(
                "Visit %(number)s (visit %(visit)s)", number=order.order_number, visit=number
            )
        else:
            subject = _("Visit %(number)s", number=order.order_number)
    return {
        "subject": f"{subject} · {customer}" if customer else subject,
        "location": address,
        "body": "\n".join(lines),
        "order_number": order.order_number,
    }
