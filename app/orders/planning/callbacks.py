"""The partner's ``visit_rescheduled`` callback: a scheduled order's visit moved.

Moving a visit changes no status, so the status engine's hook stays silent;
planning calls :func:`app.orders.deliveries.partner_callbacks.on_visit_rescheduled`
in the same transaction instead, which applies the callback rules (a partner
order, an active integration with a URL, subscribed to ``visit_rescheduled``,
``scheduled`` mapped to a word of its own). The body is the status callback's,
with ``visit``: ``{date, window_start, window_end}`` (ISO date, "HH:MM").
"""

from __future__ import annotations

from app.orders.deliveries.partner_callbacks import on_visit_rescheduled
from app.orders.deliveries.payloads import visit_details
from app.platform.models import Order


def record_rescheduled(order: Order) -> None:
    """Write the partner's ``visit_rescheduled`` callback, if it wants one."""
    on_visit_rescheduled(order, visit_details(order), reason="Visit rescheduled")
