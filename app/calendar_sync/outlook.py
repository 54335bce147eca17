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

from app.calendar_sync.mailboxes import outlook_mailbox_of
from app.calendar_sync.visits import order_lock
from app.calendar_sync.writers import CalendarWriter, calendar_writer
from app.extensions import db
from app.models import CalendarEvent, User
from app.transactions import commit

log = logging.getLogger(__name__)

AMSTERDAM = "Europe/Amsterdam"
AMSTERDAM_ZONE = ZoneInfo(AMSTERDAM)
# Delete from an old mailbox, then create (or update): never more than this.
MAX_STEPS = 3


def sync_outlook_event(row_id: uuid.UUID) -> None:
    """Make the row's Outlook event match the row (create, update or delete it)."""
    writer = calendar_writer()
    for _ in range(MAX_STEPS):
        acted = _step(writer, row_id)
        commit()
        if not acted:
            return


def needs_outlook(row: CalendarEvent, technician: User) -> bool:
    """Whether the row's Outlook event is not (yet) what the row says."""
    target = None if row.cancelled_at is not None else outlook_mailbox_of(technician)
    if row.graph_event_id is None:
        return target is not None
    return target != row.mailbox or row.synced_sequence != row.sequence


def _step(writer: CalendarWriter, row_id: uuid.UUID) -> bool:
    """One Graph call bringing the event closer to the row; False when it is there."""
    row = db.session.get(CalendarEvent, row_id)
    if row is None:
        return False
    order_lock(row.order_id)
    db.session.refresh(row)
    technician = db.session.get(User, row.technician_id)
    if not needs_outlook(row, technician):
        return False
    target = None if row.cancelled_at is not None else outlook_mailbox_of(technician)
    if row.graph_event_id is not None and row.mailbox != target:
        writer.delete(row.mailbox, row.graph_event_id)
        log.info("deleted Outlook event of visit %s from %s", row.order_id, row.mailbox)
        row.graph_event_id = row.mailbox = row.synced_sequence = None
        # A new event later is a new creation, not a replay of the deleted one.
        row.transaction_id = uuid.uuid4().hex
        return True
    if row.graph_event_id is None:
        row.graph_event_id = writer.create(
            target, {**graph_event(row), "transactionId": row.transaction_id}
        )
        row.mailbox = target
    elif not writer.update(row.mailbox, row.graph_event_id, graph_event(row)):
        # Deleted in Outlook by hand: the visit still stands, so make it again.
        row.graph_event_id = row.mailbox = None
        row.transaction_id = uuid.uuid4().hex
        return True
    row.synced_sequence = row.sequence
    row.last_error = None
    return True


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
