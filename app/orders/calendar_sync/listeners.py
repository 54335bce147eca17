"""A planned, moved or unplanned visit: sync the calendars after the commit."""

from __future__ import annotations

from app.orders.calendar_sync.jobs import queue_visit_sync
from app.orders.core.planning import VisitPlanned
from app.platform.events import listens_to


@listens_to(VisitPlanned)
def sync_planned_visit(event: VisitPlanned) -> None:
    """Every plan change, whoever made it, reaches the technicians' calendars. The job
    syncs all the order's visits, so ``event.visit_number``'s rows with the rest."""
    queue_visit_sync(event.order_id)
