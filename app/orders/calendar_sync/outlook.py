"""Keeping one calendar row's Outlook event in line with the row.

Each step makes at most one Graph call, under the order's lock, and commits what
it learnt right after: a worker killed between the call and the commit leaves
the row as it was, and the retry repeats the call harmlessly (a create carries
the row's ``transactionId``, a delete of a gone event is a success, an update is
the same update). A row whose technician has no Outlook calendar, whose mailbox
changed, or that was cancelled, has its event deleted.
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime
from zoneinfo import ZoneInfo

from app.conversations.channels.outlook.client import GraphError
from app.orders.calendar_sync.mailboxes import outlook_mailbox_of
from app.orders.calendar_sync.visits import order_lock
from app.orders.calendar_sync.writers import CalendarWriter, calendar_writer
from app.platform.extensions import db
from app.platform.models import CalendarEvent, User
from app.platform.transactions import commit

log = logging.getLogger(__name__)

AMSTERDAM = "Europe/Amsterdam"
AMSTERDAM_ZONE = ZoneInfo(AMSTERDAM)
# Recover and delete an event in an old mailbox, note and create a new one: at most.
MAX_STEPS = 5


def sync_outlook_event(row_id: uuid.UUID) -> None:
    """Make the row's Outlook event match the row (create, update or delete it)."""
    writer = calendar_writer()
    for _ in range(MAX_STEPS):
        try:
            acted = _step(writer, row_id)
        except GraphError as exc:
            db.session.rollback()
            _note_failure(row_id, exc)
            raise  # the job is retried (app.platform.jobs.queues)
        commit()
        if not acted:
            return


def _note_failure(row_id: uuid.UUID, exc: GraphError) -> None:
    """Keep what Graph said on the row, so a lagging calendar can be explained."""
    row = db.session.get(CalendarEvent, row_id)
    if row is not None:
        row.last_error = str(exc)[:500]
        commit()


def needs_outlook(row: CalendarEvent, technician: User) -> bool:
    """Whether the row's Outlook event is not (yet) what the row says."""
    target = None if row.cancelled_at is not None else outlook_mailbox_of(technician)
    if row.graph_event_id is None:
        # A mailbox without an event id: a creation there is due, or was made
        # without its answer being heard.
        return row.mailbox is not None or target is not None
    return target != row.mailbox or row.synced_sequence != row.sequence


def _step(writer: CalendarWriter, row_id: uuid.UUID) -> bool:
    """One Graph call (or the note before one) bringing the event closer to the row;
    False when the event is as the row says."""
    row = db.session.get(CalendarEvent, row_id)
    if row is None:
        return False
    order_lock(row.order_id)
    db.session.refresh(row)
    technician = db.session.get(User, row.technician_id)
    if not needs_outlook(row, technician):
        return False
    target = None if row.cancelled_at is not None else outlook_mailbox_of(technician)
    if row.graph_event_id is None and row.mailbox not in (None, target):
        # An event may have been made there by a worker that died before it heard
        # Graph's answer: the same transactionId gives it back, to delete next.
        row.graph_event_id = writer.create(row.mailbox, _creation(row))
        return True
    if row.graph_event_id is not None and row.mailbox != target:
        writer.delete(row.mailbox, row.graph_event_id)
        log.info("deleted Outlook event of visit %s from %s", row.order_id, row.mailbox)
        _forget_event(row)
        return True
    if row.graph_event_id is None:
        if row.mailbox is None:
            # Noted (and committed) before the call, so a creation whose answer is
            # lost is still known to exist when the visit moves elsewhere.
            row.mailbox = target
            return True
        row.graph_event_id = writer.create(target, _creation(row))
    elif not writer.update(row.mailbox, row.graph_event_id, graph_event(row)):
        # Deleted in Outlook by hand: the visit still stands, so make it again.
        _forget_event(row)
        return True
    row.synced_sequence = row.sequence
    row.last_error = None
    return True


def _forget_event(row: CalendarEvent) -> None:
    row.graph_event_id = row.mailbox = row.synced_sequence = None
    # A new event later is a new creation, not a replay of the one gone.
    row.transaction_id = uuid.uuid4().hex


def _creation(row: CalendarEvent) -> dict:
    return {**graph_event(row), "transactionId": row.transaction_id}


def graph_event(row: CalendarEvent) -> dict:
    """The row as a Graph event resource (times in Amsterdam with their ``timeZone``)."""
    details = row.details or {}
    return {
        "subject": details.get("subject", ""),
        "body": {"contentType": "text", "content": details.get("body", "")},
        "start": _moment(row.starts_at),
        "end": _moment(row.ends_at),
        "isAllDay": row.all_day,
        "location": {"displayName": details.get("location", "")},
        "showAs": "busy",
        "categories": ["Switchboard"],
    }


def _moment(moment: datetime) -> dict:
    local = moment.astimezone(AMSTERDAM_ZONE).replace(tzinfo=None)
    return {"dateTime": local.isoformat(timespec="seconds"), "timeZone": AMSTERDAM}
