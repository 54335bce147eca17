"""Calendar jobs: sync one order's visits, one technician's calendar, and the sweep behind them.

Jobs take ids. :func:`sync_visit_calendar` is queued after every plan change of
any of the order's visits and after a cancellation, and syncs all the order's
visits (:func:`app.orders.calendar_sync.visits.reconcile_visit`); running it
twice, or two at once on two workers, ends in the same state (the order's lock,
the unique row per visit and technician, Graph's transactionId).
:func:`reconcile_calendars` finds visits whose calendar lags their plan (a job
lost with a killed worker, Graph down for a while) and queues them again.
"""

from __future__ import annotations

import logging
import uuid
from datetime import timedelta

import sqlalchemy as sa

from app.orders.calendar_sync.outlook import needs_outlook, sync_outlook_event
from app.orders.calendar_sync.visits import reconcile_visit
from app.orders.mobile.services import local_today
from app.platform.database import utcnow
from app.platform.extensions import db
from app.platform.jobs.queues import enqueue
from app.platform.models import CalendarEvent, Order, User, Visit
from app.platform.transactions import commit

log = logging.getLogger(__name__)

SYNC_VISIT = "app.orders.calendar_sync.jobs.sync_visit_calendar"
# Plans this far back are still worth putting right (the feed shows 30 days back).
LOOK_BACK = timedelta(days=1)


def queue_visit_sync(order_id: uuid.UUID) -> None:
    enqueue(SYNC_VISIT, str(order_id))


def queue_technician_sync(user_id: uuid.UUID) -> None:
    enqueue("app.orders.calendar_sync.jobs.sync_technician_calendar", str(user_id))


def sync_visit_calendar(order_id: str) -> None:
    """Bring the calendar rows and Outlook events of the order's visits in line with
    their plans."""
    rows = reconcile_visit(uuid.UUID(order_id))
    row_ids = [row.id for row in rows]
    commit()
    _sync_rows(row_ids)


def sync_technician_calendar(user_id: str) -> None:
    """Re-write a technician's live visits (their mailbox or Outlook setting changed)."""
    row_ids = db.session.scalars(
        sa.select(CalendarEvent.id).where(
            CalendarEvent.technician_id == uuid.UUID(user_id),
            sa.or_(CalendarEvent.cancelled_at.is_(None), CalendarEvent.graph_event_id.is_not(None)),
            CalendarEvent.ends_at >= utcnow() - LOOK_BACK,
        )
    ).all()
    commit()
    _sync_rows(row_ids)


def _sync_rows(row_ids: list[uuid.UUID]) -> None:
    for row_id in row_ids:
        row = db.session.get(CalendarEvent, row_id)
        if row is not None and needs_outlook(row, db.session.get(User, row.technician_id)):
            sync_outlook_event(row_id)
        commit()


def reconcile_calendars() -> int:
    """Periodic: queue a sync for every visit whose calendar lags its plan; how many."""
    since = local_today() - LOOK_BACK
    # Every visit of an order has its own day: a second day or return visit ahead
    # while the order's own (current) day has passed still belongs in calendars.
    planned = sa.select(Visit.order_id).where(Visit.scheduled_date >= since)
    # An order planned without a visit plan (a synced work order) has only its own day.
    unplanned_visits = sa.select(Order.id).where(
        Order.scheduled_date >= since,
        Order.assigned_technician_id.is_not(None),
        ~sa.exists().where(Visit.order_id == Order.id),
    )
    in_calendars = sa.select(CalendarEvent.order_id).where(
        sa.or_(
            CalendarEvent.ends_at >= utcnow() - LOOK_BACK,
            CalendarEvent.graph_event_id.is_not(None) & CalendarEvent.cancelled_at.is_not(None),
        )
    )
    order_ids = (
        set(db.session.scalars(planned))
        | set(db.session.scalars(unplanned_visits))
        | set(db.session.scalars(in_calendars))
    )
    commit()
    queued = 0
    for order_id in sorted(order_ids):
        rows = reconcile_visit(order_id)
        # A row just put right still has its Outlook event to write.
        if any(needs_outlook(row, db.session.get(User, row.technician_id)) for row in rows):
            queue_visit_sync(order_id)
            queued += 1
        commit()
    if queued:
        log.info("queued the calendar sync of %s visits that lagged their plan", queued)
    return queued
