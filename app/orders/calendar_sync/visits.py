"""Which visits stand in which technician's calendar: the calendar rows of one order.

:func:`reconcile_visit` compares an order's plan (:mod:`app.orders.calendar_sync.visit_times`)
with its calendar rows, one per (order, technician), and brings the rows in line:
a new technician gets a row, a moved or changed visit raises the row's sequence,
a technician taken off (or a cancelled order, or a removed plan) gets the row
cancelled. The rows are what the iCalendar feed shows and what the Outlook sync
(:mod:`app.orders.calendar_sync.outlook`) writes to Graph.
"""

from __future__ import annotations

import uuid

import sqlalchemy as sa
from flask_babel import force_locale
from flask_babel import gettext as _

from app.orders.calendar_sync.visit_times import VisitSlot, visit_slot, visit_technician_ids
from app.orders.mobile.services import time_window
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
    """Bring the order's calendar rows in line with its plan; returns all its rows.

    Holds the order's lock until the caller commits.
    """
    order_lock(order_id)
    order = db.session.get(Order, order_id)
    rows = {
        row.technician_id: row
        for row in db.session.scalars(
            sa.select(CalendarEvent).where(CalendarEvent.order_id == order_id)
        )
    }
    slot = visit_slot(order) if order is not None and order.status not in GONE else None
    wanted = visit_technician_ids(order) if slot is not None else []
    details = visit_details(order) if wanted else {}
    for technician_id in wanted:
        row = rows.get(technician_id)
        if row is None:
            row = CalendarEvent(
                order_id=order_id,
                technician_id=technician_id,
                transaction_id=uuid.uuid4().hex,
                sequence=0,
                details={},
            )
            db.session.add(row)
            rows[technician_id] = row
            _place(row, slot, details)
        elif row.cancelled_at is not None or _differs(row, slot, details):
            row.cancelled_at = None
            row.sequence += 1
            _place(row, slot, details)
    now = utcnow()
    for technician_id, row in rows.items():
        if technician_id not in wanted and row.cancelled_at is None:
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


def visit_details(order: Order) -> dict:
    """Subject, location and notes of the visit, in Dutch as the technicians read them."""
    customer = order.end_customer.display_name if order.end_customer else None
    address = order.installation_address.one_line() if order.installation_address else ""
    with force_locale("nl"):
        lines = []
        window = time_window(order)
        if window is not None:
            lines.append(_("Time window: %(window)s", window=window.raw))
        materials = [
            f"{item.quantity}× {item.article.name if item.article else item.description}"
            for item in order.line_items
        ]
        if materials:
            lines.append(_("Bring: %(materials)s", materials=", ".join(materials)))
        if order.notes:
            lines.append(_("Notes: %(notes)s", notes=order.notes))
        subject = _("Visit %(number)s", number=order.order_number)
    return {
        "subject": f"{subject} · {customer}" if customer else subject,
        "location": address,
        "body": "\n".join(lines),
        "order_number": order.order_number,
    }
