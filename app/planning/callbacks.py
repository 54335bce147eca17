"""The partner's ``visit_rescheduled`` callback: a scheduled order's visit moved.

Moving a visit changes no status, so the status engine's hook stays silent;
planning calls :func:`app.deliveries.partner_callbacks.on_visit_rescheduled`
in the same transaction instead, which applies the callback rules (a partner
order, an active integration with a URL, subscribed to ``visit_rescheduled``,
``scheduled`` mapped to a word of its own). The body is the status callback's,
with ``visit``: ``{date, window_start, window_end}`` (ISO date, "HH:MM").
"""

from __future__ import annotations

from app.deliveries.partner_callbacks import on_visit_rescheduled
from app.models import Order, Visit


def visit_object(visit: Visit) -> dict:
    """The visit as a partner reads it."""
    return {
        "date": visit.scheduled_date.isoformat() if visit.scheduled_date else None,
        "window_start": f"{visit.window_start:%H:%M}" if visit.window_start else None,
        "window_end": f"{visit.window_end:%H:%M}" if visit.window_end else None,
    }


def record_rescheduled(order: Order, visit: Visit) -> None:
    """Write the partner's ``visit_rescheduled`` callback, if it wants one."""
    on_visit_rescheduled(order, visit_object(visit), reason="Visit rescheduled")
