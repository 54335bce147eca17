"""The partner's callbacks about a visit that change no order status.

Moving a visit changes no status, nor does planning an order's second day or
return visit while its first is planned or under way, nor finishing one visit
of several, so the status engine's hook stays silent; planning calls
:func:`app.orders.deliveries.partner_callbacks.on_visit_event` in the same
transaction instead, which applies the callback rules (a partner order, an
active integration with a URL, subscribed to the event, the order's status
mapped to a word of its own). The body is the status callback's, with
``visit``: ``{number, purpose, date, window_start, window_end}`` (ISO date,
"HH:MM"; a visit taken back has no date or window). A visit the customer moved
on their own page adds ``reason``: ``"customer"`` to ``visit``.
"""

from __future__ import annotations

from app.orders.core.visits import record_visit_completed
from app.orders.deliveries.partner_callbacks import on_visit_event
from app.orders.deliveries.partner_events import VISIT_RESCHEDULED, VISIT_SCHEDULED
from app.orders.deliveries.payloads import visit_details
from app.platform.models import Order, Visit

# Why a visit moved, as a partner reads it (``visit.reason``).
CUSTOMER_REASON = "customer"


def record_rescheduled(order: Order, visit: Visit | None = None, by_customer: bool = False) -> None:
    """Write the partner's ``visit_rescheduled`` callback, if it wants one."""
    details = visit_details(order, visit)
    if not by_customer:
        on_visit_event(order, VISIT_RESCHEDULED, details, "Visit rescheduled")
        return
    details = {**(details or {}), "reason": CUSTOMER_REASON}
    on_visit_event(order, VISIT_RESCHEDULED, details, "Visit moved by the customer")


def record_scheduled(order: Order, visit: Visit) -> None:
    """A later visit planned (the order's status stays): ``visit_scheduled``."""
    on_visit_event(order, VISIT_SCHEDULED, visit_details(order, visit), "Visit scheduled")


def record_taken_back(order: Order, visit: Visit) -> None:
    """A later visit's plan taken back: ``visit_rescheduled`` with no date."""
    on_visit_event(order, VISIT_RESCHEDULED, taken_back(visit), "Visit plan taken back")


def record_completed(order: Order, visit: Visit) -> None:
    """One visit of several done, the order goes on: ``visit_completed``."""
    record_visit_completed(order, visit)


def taken_back(visit: Visit) -> dict:
    return {
        "number": visit.number,
        "purpose": visit.purpose,
        "date": None,
        "window_start": None,
        "window_end": None,
    }
