"""What the customer answered to the reminder of a visit's current day, for the
board's and the technician's cards (the answers are taken in
app.orders.visit_reminders)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable

import sqlalchemy as sa

from app.platform.extensions import db
from app.platform.models import Visit, VisitReminder

CONFIRMED, MOVE_ASKED, UNCONFIRMED = "confirmed", "move_asked", "unconfirmed"


def confirmation_states(visits: Iterable[Visit | None]) -> dict[uuid.UUID, str]:
    """By visit id: ``confirmed``, ``move_asked`` or ``unconfirmed`` (the reminder went
    unanswered past the confirm-by time); visits without any of these are absent.
    Only the reminder of the visit's current day counts: a moved visit starts over."""
    planned = {visit.id: visit.scheduled_date for visit in visits if visit and visit.scheduled_date}
    if not planned:
        return {}
    rows = db.session.execute(
        sa.select(
            VisitReminder.visit_id,
            VisitReminder.visit_date,
            VisitReminder.confirmed_at,
            VisitReminder.move_requested_at,
            VisitReminder.flagged_at,
        ).where(VisitReminder.visit_id.in_(list(planned)))
    ).all()
    states: dict[uuid.UUID, str] = {}
    for visit_id, day, confirmed_at, move_requested_at, flagged_at in rows:
        if planned.get(visit_id) != day:
            continue
        if move_requested_at is not None:
            states[visit_id] = MOVE_ASKED
        elif confirmed_at is not None:
            states[visit_id] = CONFIRMED
        elif flagged_at is not None:
            states[visit_id] = UNCONFIRMED
    return states
